// Package triage gives an enquiry its priority from explicit rules: a
// table of rules with their points (Rules), a score that adds up the points
// of the rules that fire, and a level from the score. It also guesses the
// language of a message for channels that do not say it. It is pure: no
// I/O, no clock of its own (the caller passes Now).
package triage
