// Package attempts limits guessing: it counts failures per key (an account,
// an address, a staff number) and refuses a key that failed too often
// lately. The ground uses it for passwords and enrolment codes, the tablet
// for crew PINs.
package attempts
