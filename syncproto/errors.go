package syncproto

import (
	"errors"
	"fmt"
)

// Error codes shared by the HTTP APIs and the sync protocol. Each edge maps
// them once: HTTP to a status (see HTTPStatus), sync to an ERROR frame.
const (
	CodeInvalid           = "invalid"            // a field is missing or malformed
	CodeInvalidJSON       = "invalid_json"       // the body is not the JSON we expect
	CodeNotFound          = "not_found"          // the enquiry, flight or device does not exist
	CodeConflict          = "conflict"           // the resource exists already
	CodeIllegalTransition = "illegal_transition" // the status change is not allowed from the current status
	CodeUnauthorized      = "unauthorized"       // missing or bad credentials
	CodeForbidden         = "forbidden"          // credentials fine, action not allowed
	CodeOutOfScope        = "out_of_scope"       // a device wrote to an enquiry of a flight it does not serve
	CodeUnknownEnquiry    = "unknown_enquiry"    // an op names an enquiry the server does not know
	CodeTooLarge          = "too_large"          // a body or frame is over the size limit
	CodeBadFrame          = "bad_frame"          // a sync frame is truncated, garbled or of an unknown type
	CodeProtocolVersion   = "protocol_version"   // the peer speaks a protocol version we do not
	CodeProtocol          = "protocol"           // a frame came at the wrong point in the exchange
	CodeTimeout           = "timeout"            // the peer was silent for too long
	CodeSlowConsumer      = "slow_consumer"      // the peer does not read fast enough
	CodeRevoked           = "revoked"            // the device's credential was revoked
	CodeRateLimited       = "rate_limited"       // too many attempts or requests; wait and try again
	CodeShuttingDown      = "shutting_down"      // the server is stopping; reconnect later
	CodeResync            = "resync"             // an admin asked for a full re-pull: reconnect now
	CodeUnavailable       = "unavailable"        // the service cannot answer now
	CodeInternal          = "internal"           // anything else; details only in the server log
)

// Error is an error with a machine-readable code and a message safe to show
// to the client. Errors of any other type become CodeInternal at the edges.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// CodeInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err; for errors that are
// not an *Error it returns a generic text, so internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// HTTPStatus maps an error code to its HTTP status.
func HTTPStatus(code string) int {
	switch code {
	case CodeInvalid, CodeInvalidJSON, CodeBadFrame, CodeProtocol:
		return 400
	case CodeUnauthorized:
		return 401
	case CodeForbidden, CodeOutOfScope, CodeRevoked:
		return 403
	case CodeNotFound, CodeUnknownEnquiry:
		return 404
	case CodeConflict, CodeIllegalTransition:
		return 409
	case CodeTooLarge:
		return 413
	case CodeRateLimited:
		return 429
	case CodeProtocolVersion:
		return 426
	case CodeTimeout:
		return 408
	case CodeUnavailable, CodeShuttingDown:
		return 503
	default:
		return 500
	}
}
