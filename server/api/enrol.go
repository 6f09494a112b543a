package api

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// codeAlphabet leaves out letters and digits people confuse when they read
// a code off a screen and type it on a tablet (0/O, 1/I/L, U/V).
const codeAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// newEnrolmentCode returns a code of 10 symbols (about 49 bits) shown as
// XXXXX-XXXXX. It lives minutes, is used once, and guesses are limited per
// address, so 49 bits leave a guesser no chance.
func newEnrolmentCode() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, x := range b {
		if i == 5 {
			sb.WriteByte('-')
		}
		// 256 is not a multiple of 30; the bias (under 1%) costs well under
		// a bit of the code's strength.
		sb.WriteByte(codeAlphabet[int(x)%len(codeAlphabet)])
	}
	return sb.String()
}

// normaliseCode makes a typed code match a stored one: case, spaces and
// dashes do not matter.
func normaliseCode(code string) string {
	code = strings.ToUpper(code)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, code)
}

func hashCode(code string) []byte { return auth.HashToken(normaliseCode(code)) }

func (a *API) createDevice(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > syncproto.MaxShortLen {
		return syncproto.Errorf(syncproto.CodeInvalid, "name is required (at most %d bytes)", syncproto.MaxShortLen)
	}
	now := a.Now().UTC()
	code, expires := newEnrolmentCode(), now.Add(a.EnrolTTL)
	// No credential until the code is exchanged: an empty hash matches
	// no token.
	d := store.Device{ID: uuid.NewString(), Name: in.Name, CreatedAt: now, Cursors: map[string]uint64{}}
	if err := a.Store.CreateDeviceEnrolment(c.Request().Context(), &d, hashCode(code), expires); err != nil {
		return err
	}
	a.Log.Info("device registered", "device", d.ID, "name", d.Name)
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditDeviceCreated, Actor: principal(c).Who(), Subject: "device:" + d.ID, Remote: remote(c), Detail: d.Name})
	return c.JSON(http.StatusCreated, map[string]any{"id": d.ID, "name": d.Name, "enrolment_code": code, "expires_at": expires, "created_at": d.CreatedAt})
}

func (a *API) rotateDevice(c echo.Context) error {
	id := c.Param("id")
	code, expires := newEnrolmentCode(), a.Now().UTC().Add(a.EnrolTTL)
	if err := a.Store.RotateDevice(c.Request().Context(), id, hashCode(code), expires); err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditDeviceRotated, Actor: principal(c).Who(), Subject: "device:" + id, Remote: remote(c)})
	return c.JSON(http.StatusOK, map[string]any{"id": id, "enrolment_code": code, "expires_at": expires})
}

// EnrolResponse is what a tablet gets for its enrolment code: its
// long-lived credential, shown this once.
type EnrolResponse struct {
	DeviceID string `json:"device_id"`
	Token    string `json:"token"`
	Name     string `json:"name"`
}

// enrol exchanges a one-time code for the device's credential. Failures
// count against the caller's address like bad passwords do. A rotation's
// code replaces the old credential, so the device's live session (on the
// old one) is closed.
func (a *API) enrol(c echo.Context) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	ctx, ip := c.Request().Context(), remote(c)
	if ok, wait := a.addrLimit.Allow(ip); !ok {
		return syncproto.Errorf(syncproto.CodeRateLimited, "too many failed attempts from this address; retry in %s", wait.Round(time.Second))
	}
	if in.Code == "" || len(in.Code) > 64 {
		return syncproto.Errorf(syncproto.CodeInvalid, "code is required")
	}
	token := auth.NewToken()
	d, err := a.Store.Enrol(ctx, hashCode(in.Code), auth.HashToken(token), a.Now())
	if err != nil {
		if code := syncproto.ErrorCode(err); code == syncproto.CodeUnauthorized || code == syncproto.CodeRevoked {
			a.addrLimit.Fail(ip)
			a.audit(ctx, store.AuditEvent{Kind: store.AuditEnrolFailed, Actor: "anonymous", Remote: ip, Code: code, Detail: syncproto.ErrorMessage(err)})
		}
		return err
	}
	a.Hub.Disconnect(d.ID, syncproto.CodeRevoked, "this device's credential was replaced")
	a.audit(ctx, store.AuditEvent{Kind: store.AuditDeviceEnrolled, Actor: "device:" + d.ID, Subject: "device:" + d.ID, Remote: ip})
	a.Log.Info("device enrolled", "device", d.ID, "name", d.Name)
	return c.JSON(http.StatusOK, EnrolResponse{DeviceID: d.ID, Token: token, Name: d.Name})
}

// bindDevice sets which flights a device may serve. The device's session
// is closed so that its next handshake is checked against the new binding.
func (a *API) bindDevice(c echo.Context) error {
	var in store.Binding
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if len(in.Aircraft) > 64 || len(in.Flights) > 64 {
		return syncproto.Errorf(syncproto.CodeInvalid, "at most 64 aircraft and 64 flights")
	}
	for _, list := range [][]string{in.Aircraft, in.Flights} {
		for i, v := range list {
			list[i] = strings.TrimSpace(v)
			if list[i] == "" || len(list[i]) > syncproto.MaxShortLen {
				return syncproto.Errorf(syncproto.CodeInvalid, "aircraft and flights must be non-empty names of at most %d bytes", syncproto.MaxShortLen)
			}
		}
	}
	ctx := c.Request().Context()
	for _, f := range in.Flights {
		if _, err := a.Store.Flight(ctx, f); err != nil {
			return err
		}
	}
	id := c.Param("id")
	if err := a.Store.UpdateDevice(ctx, id, func(d *store.Device) error { d.Binding = in; return nil }); err != nil {
		return err
	}
	a.Hub.Disconnect(id, syncproto.CodeOutOfScope, "the flights this device may serve changed; reconnect")
	a.audit(ctx, store.AuditEvent{Kind: store.AuditDeviceBound, Actor: principal(c).Who(), Subject: "device:" + id, Remote: remote(c), Detail: fmt.Sprintf("aircraft %v flights %v", in.Aircraft, in.Flights)})
	return a.getDevice(c)
}

// closeFlight closes a flight: the tablets serving it are told in their
// next handshake, so their live sessions are ended now (they reconnect at
// once), and each purges the flight's data after its retention.
func (a *API) closeFlight(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := a.Store.CloseFlight(ctx, c.Param("id"), a.Now())
	if err != nil {
		return err
	}
	a.Hub.FlightClosed(f.ID)
	a.audit(ctx, store.AuditEvent{Kind: store.AuditFlightClosed, Actor: principal(c).Who(), Subject: "flight:" + f.ID, Remote: remote(c)})
	return c.JSON(http.StatusOK, f)
}

// flightPurges shows which tablets reported the flight's data gone, and
// which devices that served the flight have not (yet).
func (a *API) flightPurges(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := a.Store.Flight(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	ps, err := a.Store.Purges(ctx, f.ID)
	if err != nil {
		return err
	}
	ds, err := a.Store.Devices(ctx)
	if err != nil {
		return err
	}
	purged := map[string]bool{}
	for _, p := range ps {
		purged[p.Device] = true
	}
	missing := []string{}
	for _, d := range ds {
		if _, served := d.Cursors[f.ID]; served && !purged[d.ID] {
			missing = append(missing, d.ID)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"flight": f.ID, "closed_at": f.ClosedAt, "purges": ps, "devices_missing": missing})
}

func (a *API) auditLog(c echo.Context) error {
	f := store.AuditFilter{Kind: c.QueryParam("kind"), Actor: c.QueryParam("actor"), Subject: c.QueryParam("subject"), Limit: 100}
	for name, t := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.QueryParam(name); v != "" {
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return syncproto.Errorf(syncproto.CodeInvalid, "%s %q is not an RFC 3339 time", name, v)
			}
			*t = p
		}
	}
	for name, n := range map[string]*int{"limit": &f.Limit} {
		if v := c.QueryParam(name); v != "" {
			x, err := parseInt(v, 1, 1000)
			if err != nil {
				return syncproto.Errorf(syncproto.CodeInvalid, "%s must be a number from 1 to 1000", name)
			}
			*n = x
		}
	}
	if v := c.QueryParam("before"); v != "" {
		x, err := parseInt(v, 1, 1<<62)
		if err != nil {
			return syncproto.Errorf(syncproto.CodeInvalid, "before must be an event seq")
		}
		f.Before = uint64(x)
	}
	evs, err := a.Store.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"events": evs, "count": len(evs)})
}

func parseInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, strconv.ErrRange
	}
	return n, nil
}
