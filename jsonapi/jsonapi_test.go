package jsonapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/syncproto"
)

type payload struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func bind(body string, optional bool) (payload, error) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	c := e.NewContext(req, httptest.NewRecorder())
	var p payload
	err := jsonapi.Bind(c, &p, optional)
	return p, err
}

// Ensure Bind accepts exactly one JSON value of the right shape, and
// refuses everything else with a code and a message that says why.
func TestBind(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		for _, body := range []string{`{"name":"a","count":2}`, " \n\t{\"name\":\"a\",\"count\":2}\r\n "} {
			got, err := bind(body, false)
			if err != nil {
				t.Fatalf("Bind(%q) = %v", body, err)
			}
			if want := (payload{"a", 2}); got != want {
				t.Fatalf("Bind(%q) = %+v, want %+v", body, got, want)
			}
		}
	})
	t.Run("OptionalEmpty", func(t *testing.T) {
		for _, body := range []string{"", "  \n"} {
			if got, err := bind(body, true); err != nil || got != (payload{}) {
				t.Fatalf("optional Bind(%q) = %+v, %v; want zero, nil", body, got, err)
			}
		}
	})
	for _, tc := range []struct {
		name, body string
		code, msg  string
	}{
		{"Empty", "", syncproto.CodeInvalidJSON, "required"},
		{"Blank", " \n", syncproto.CodeInvalidJSON, "required"},
		{"Malformed", `{"name":`, syncproto.CodeInvalidJSON, "unexpected end"},
		{"Syntax", `{"name" "a"}`, syncproto.CodeInvalidJSON, "byte"},
		{"WrongType", `{"name":12}`, syncproto.CodeInvalidJSON, `field "name" must be string, not number`},
		{"WrongTypeNested", `{"count":"2"}`, syncproto.CodeInvalidJSON, `"count"`},
		{"NotAnObject", `[1]`, syncproto.CodeInvalidJSON, "not array"},
		{"UnknownField", `{"name":"a","colour":"red"}`, syncproto.CodeInvalidJSON, "colour"},
		{"TrailingWord", `{"name":"a"} x`, syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TrailingBrace", `{"name":"a"}}`, syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TrailingBracket", `{"name":"a"}]`, syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TrailingComma", `{"name":"a"},`, syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TwoValues", `{"name":"a"}{"name":"b"}`, syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TrailingNUL", "{\"name\":\"a\"}\x00", syncproto.CodeInvalidJSON, "after the JSON value"},
		{"TooLarge", `{"name":"` + strings.Repeat("a", jsonapi.MaxBody) + `"}`, syncproto.CodeTooLarge, "over"},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			for _, optional := range []bool{false, true} {
				if optional && (tc.name == "Empty" || tc.name == "Blank") {
					continue
				}
				_, err := bind(tc.body, optional)
				var e *syncproto.Error
				if !errors.As(err, &e) {
					t.Fatalf("Bind = %v, want a *syncproto.Error", err)
				}
				if e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
					t.Fatalf("Bind = %q %q, want code %q mentioning %q", e.Code, e.Message, tc.code, tc.msg)
				}
			}
		})
	}
	t.Run("ExactlyMaxBody", func(t *testing.T) {
		body := `{"name":"` + strings.Repeat("a", jsonapi.MaxBody-11) + `"}`
		if len(body) != jsonapi.MaxBody {
			t.Fatalf("body is %d bytes", len(body))
		}
		if _, err := bind(body, false); err != nil {
			t.Fatalf("a body of exactly MaxBody = %v, want accepted", err)
		}
	})
}

// Ensure UUIDParam accepts only a canonical UUID and answers not_found
// otherwise.
func TestUUIDParam(t *testing.T) {
	t.Parallel()
	e := echo.New()
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", true},
		{"0190A3C4-5B6D-7E8F-9A0B-1C2D3E4F5A6B", true},
		{"0190a3c45b6d7e8f9a0b1c2d3e4f5a6b", false},
		{"{0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b}", false},
		{"urn:uuid:0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b", false},
		{"12A", false},
		{"", false},
	} {
		c := e.NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
		c.SetParamNames("id")
		c.SetParamValues(tc.v)
		id, err := jsonapi.UUIDParam(c, "id")
		if tc.ok && (err != nil || !strings.EqualFold(id.String(), tc.v)) {
			t.Errorf("UUIDParam(%q) = %v, %v; want the id", tc.v, id, err)
		}
		if !tc.ok && syncproto.ErrorCode(err) != syncproto.CodeNotFound {
			t.Errorf("UUIDParam(%q) = %v, want not_found", tc.v, err)
		}
	}
}

// Ensure the error handler writes the one envelope with the status of the
// code, maps echo's own errors, and never shows an internal error's text.
func TestErrorHandler(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, tc := range []struct {
		name   string
		method string
		err    error
		status int
		code   string
	}{
		{"Coded", "GET", syncproto.Errorf(syncproto.CodeIllegalTransition, "cannot ack"), 409, syncproto.CodeIllegalTransition},
		{"Wrapped", "GET", fmt.Errorf("ctx: %w", syncproto.Errorf(syncproto.CodeNotFound, "no such enquiry")), 404, syncproto.CodeNotFound},
		{"Internal", "GET", errors.New("open /var/lib/secret.db: permission denied"), 500, syncproto.CodeInternal},
		{"EchoNotFound", "GET", echo.ErrNotFound, 404, syncproto.CodeNotFound},
		{"EchoMethod", "DELETE", echo.ErrMethodNotAllowed, 405, "method_not_allowed"},
		{"EchoTooLarge", "POST", echo.ErrStatusRequestEntityTooLarge, 413, syncproto.CodeTooLarge},
		{"EchoBadRequest", "POST", echo.NewHTTPError(400, "bad thing"), 400, syncproto.CodeInvalid},
		{"EchoUnauthorized", "GET", echo.ErrUnauthorized, 401, syncproto.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(tc.method, "/api/v1/x", nil), rec)
			jsonapi.ErrorHandler(log)(tc.err, c)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			var body map[string]map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != 1 || len(body["error"]) != 2 {
				t.Fatalf("body = %s (%v), want the error envelope", rec.Body, err)
			}
			if got := body["error"]["code"]; got != tc.code {
				t.Fatalf("code = %q, want %q", got, tc.code)
			}
			if body["error"]["message"] == "" {
				t.Fatal("empty message")
			}
			if strings.Contains(rec.Body.String(), "secret.db") {
				t.Fatalf("internal error text leaked: %s", rec.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "secret.db") {
		t.Fatalf("internal error was not logged: %s", logs.String())
	}

	t.Run("Head", func(t *testing.T) {
		e := echo.New()
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodHead, "/", nil), rec)
		jsonapi.ErrorHandler(log)(syncproto.Errorf(syncproto.CodeNotFound, "x"), c)
		if rec.Code != 404 || rec.Body.Len() != 0 {
			t.Fatalf("HEAD = %d with %d bytes, want 404 with no body", rec.Code, rec.Body.Len())
		}
	})
}

// Ensure NoRoute answers 405 with Allow where another method has a route,
// and 404 elsewhere, even with a catch-all and a UI at "/*".
func TestNoRoute(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.HTTPErrorHandler = jsonapi.ErrorHandler(slog.New(slog.DiscardHandler))
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	e.GET("/api/v1/things", ok)
	e.POST("/api/v1/things", ok)
	e.POST("/api/v1/things/:id/poke", ok)
	e.RouteNotFound("/api/*", jsonapi.NoRoute(e))
	e.GET("/*", func(c echo.Context) error { return c.String(http.StatusOK, "ui") })

	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/things", 204, ""},
		{"DELETE", "/api/v1/things", 405, "GET, POST"},
		{"GET", "/api/v1/things/7/poke", 405, "POST"},
		{"GET", "/api/v1/things/7", 404, ""},
		{"POST", "/api/v1/other", 404, ""},
		{"GET", "/api/", 404, ""},
		{"GET", "/index.html", 200, ""},
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want %d Allow %q (%s)", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow, rec.Body)
		}
		if tc.status >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: content type %q, want JSON", tc.method, tc.path, rec.Header().Get("Content-Type"))
		}
	}
}
