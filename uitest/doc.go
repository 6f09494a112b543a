// Package uitest drives the web UIs in a real headless Chromium (through
// chromedp) against a real ground server and real cabin services on loopback.
//
// Every page a test opens is watched: a console error, an uncaught exception
// or an error logged by the browser (a failed request included) fails the
// test, unless the test says that a stretch of time may have them (the ground
// is down on purpose). Screenshots of each main screen at tablet and desktop
// sizes are written to $CABINCARE_ARTEFACTS/screenshots (default:
// artefacts/screenshots at the repository root, ignored by git): they are for
// people to look at, never compared against goldens.
//
// Chromium is found at $CABINCARE_CHROMIUM, /usr/bin/chromium or on PATH.
// Without it the tests skip with a message, unless CABINCARE_REQUIRE_BROWSER=1
// (set by .ci/run), where they fail.
package uitest
