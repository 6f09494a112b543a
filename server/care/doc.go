// Package care is the ground care workflow: intake of enquiries, flights,
// hand-off to a flight's crew, notes, recall and close. Every change is an
// op written through the ground store, so the crew's tablets receive it by
// sync, and every rule about status is the fold's (package syncproto).
package care
