// Package webhook adapts the social platforms' webhooks to the care
// workflow's intake. Each platform is an Adapter (its subscription
// handshake, its signature check, its payload), found in a Registry by the
// name in the route (/api/v1/webhooks/{name}). The workflow never names a
// platform: channels are adapters behind one interface, so one can be
// dropped or added (as helpdesks dropped Twitter/X in 2023) without
// touching the core.
//
// Payloads follow the platforms' public formats: the X (Twitter) Account
// Activity API (direct_message_events, tweet_create_events, users; CRC
// check; x-twitter-webhooks-signature) and the Meta Messenger Platform and
// Instagram messaging webhooks ({"object":"page"|"instagram","entry":[{
// "messaging":[...]}]}; hub.challenge handshake; X-Hub-Signature-256).
package webhook
