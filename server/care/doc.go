// Package care is the ground care workflow: intake of enquiries (idempotent,
// with channel threads that join follow-ups to the open enquiry), flights
// and passenger manifests, matching an enquiry to a passenger and flight,
// triage with a stored response deadline, hand-off to a flight's crew,
// notes, recall, replies through a channel Sender with templates, merges,
// close, and the response-time figures. Every change to an enquiry is an op
// written through the ground store, so the crew's tablets receive it by
// sync, and every rule about status is the fold's (package syncproto);
// triage and the queue are ground-only records the store keeps beside it.
package care
