package jsonapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/syncproto"
)

// MaxBody is the default request body limit in bytes.
const MaxBody = 1 << 20

// Bind decodes the request body into v strictly: it must be one JSON value
// of the right shape, with no unknown fields and nothing after it. An empty
// body is allowed only when optional is true (v then keeps its zero value).
func Bind(c echo.Context, v any, optional bool) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return syncproto.Errorf(syncproto.CodeTooLarge, "request body is over %d bytes", MaxBody)
		}
		return syncproto.Errorf(syncproto.CodeInvalidJSON, "read body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return syncproto.Errorf(syncproto.CodeInvalidJSON, "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return syncproto.Errorf(syncproto.CodeInvalidJSON, "%s", describe(err))
	}
	// Not dec.More: it reports false for a stray "}" or "]", so `{...}}`
	// would pass. Only JSON whitespace may follow the value.
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return syncproto.Errorf(syncproto.CodeInvalidJSON, "unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}

// describe turns a decoding error into a message that names the field.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("body must be %s, not %s", te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end"
	}
	return err.Error()
}

// Body is the error envelope.
type Body struct {
	Error syncproto.Error `json:"error"`
}

// ErrorHandler returns echo's HTTPErrorHandler for this project: *syncproto.Error
// keeps its code, echo's routing errors get one, anything else is logged and
// answered as "internal" without its text.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := syncproto.ErrorCode(err), syncproto.ErrorMessage(err)
		status := syncproto.HTTPStatus(code)
		var he *echo.HTTPError
		if code == syncproto.CodeInternal && errors.As(err, &he) {
			status = he.Code
			msg = http.StatusText(he.Code)
			switch he.Code {
			case http.StatusNotFound:
				code, msg = syncproto.CodeNotFound, "no such endpoint: "+c.Request().Method+" "+c.Request().URL.Path
			case http.StatusMethodNotAllowed:
				code, msg = "method_not_allowed", c.Request().Method+" is not allowed on "+c.Request().URL.Path
			case http.StatusRequestEntityTooLarge:
				code = syncproto.CodeTooLarge
			case http.StatusUnauthorized:
				code = syncproto.CodeUnauthorized
			case http.StatusForbidden:
				code = syncproto.CodeForbidden
			case http.StatusTooManyRequests:
				code = "rate_limited"
			default:
				if he.Code < 500 {
					code = syncproto.CodeInvalid
					msg = fmt.Sprint(he.Message)
				} else {
					log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
				}
			}
		} else if code == syncproto.CodeInternal {
			log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, Body{Error: syncproto.Error{Code: code, Message: msg}})
	}
}

// NoRoute returns the handler for requests that no route takes, to
// register with RouteNotFound on an API prefix such as "/api/*": 405 with
// an Allow header when other methods have a route at the path, 404
// otherwise. Echo lets any catch-all win over its own 405 (a group's
// RouteNotFound, or a UI served at "/*" that would answer an API path
// with a page), so this asks the router itself.
func NoRoute(e *echo.Echo) echo.HandlerFunc {
	return func(c echo.Context) error {
		catchAll := map[string]bool{}
		for _, r := range e.Routes() {
			if r.Method == echo.RouteNotFound {
				catchAll[r.Path] = true
			}
		}
		r := c.Request()
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			fc := e.NewContext(r, nil)
			e.Router().Find(m, echo.GetPath(r), fc)
			if p := fc.Path(); p != "" && !catchAll[p] {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
			return echo.ErrMethodNotAllowed
		}
		return echo.ErrNotFound
	}
}

// UUIDParam returns a path parameter parsed as a canonical UUID, or a
// not_found error naming it (an id that cannot exist names nothing).
func UUIDParam(c echo.Context, name string) (uuid.UUID, error) {
	v := c.Param(name)
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, syncproto.Errorf(syncproto.CodeNotFound, "%s %q does not exist", name, v)
	}
	return id, nil
}
