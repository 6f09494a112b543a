// Package flagenv gives command-line flags environment-variable fallbacks:
// a flag not set on the command line takes its variable's value, and the
// variable's name is shown in --help. The command line always wins.
package flagenv
