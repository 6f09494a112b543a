package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/attempts"
	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/syncproto"
)

// Crew sign-in on the tablet. A crew member gives a staff number and PIN,
// checked offline against the roster the ground sent in sync, and gets a
// bearer token that the local API requires. Sessions live in memory: a
// restart, like inactivity, locks the tablet.

// Defaults of the crew sign-in.
const (
	DefaultSessionIdle = 10 * time.Minute
	// PINFailures wrong PINs per staff number, and TabletFailures per
	// tablet (any staff number), per PINWindow.
	PINFailures    = 5
	TabletFailures = 20
	PINWindow      = 15 * time.Minute
)

type crewSession struct {
	staff, name string
	last        time.Time
}

// sessions holds the signed-in crew by the SHA-256 of their token.
type sessions struct {
	mu     sync.Mutex // guards byHash
	byHash map[[32]byte]*crewSession
}

func (a *API) setupSessions() {
	if a.SessionIdle <= 0 {
		a.SessionIdle = DefaultSessionIdle
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	a.sessions = &sessions{byHash: map[[32]byte]*crewSession{}}
	a.pinLimit = attempts.NewLimiter(PINFailures, PINWindow)
	a.pinLimit.Now = a.Now
	a.tabletLimit = attempts.NewLimiter(TabletFailures, PINWindow)
	a.tabletLimit.Now = a.Now
}

// requireCrew lets through a signed-in crew member whose session has not
// been idle for SessionIdle, or the automation token; the actor of any op
// written is then that crew member.
func (a *API) requireCrew(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "sign in with your staff number and PIN (POST /api/v1/session)")
		}
		if a.APIToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.APIToken)) == 1 {
			c.Set("actor", syncproto.Actor{Type: syncproto.ActorDevice, ID: a.DeviceID})
			return next(c)
		}
		h := sha256.Sum256([]byte(token))
		now := a.Now()
		a.sessions.mu.Lock()
		s := a.sessions.byHash[h]
		if s != nil && now.Sub(s.last) >= a.SessionIdle {
			delete(a.sessions.byHash, h)
			s = nil
		}
		var actor syncproto.Actor
		if s != nil {
			s.last = now
			actor = syncproto.Actor{Type: syncproto.ActorDevice, ID: a.DeviceID, Name: s.name, Staff: s.staff}
		}
		a.sessions.mu.Unlock()
		if s == nil {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "the tablet locked (signed out or idle): sign in again")
		}
		c.Set("actor", actor)
		return next(c)
	}
}

func (a *API) actor(c echo.Context) syncproto.Actor {
	if act, ok := c.Get("actor").(syncproto.Actor); ok {
		return act
	}
	return syncproto.Actor{Type: syncproto.ActorDevice, ID: a.DeviceID}
}

// signIn checks a staff number and PIN against the stored roster. Wrong
// PINs are limited per staff number and per tablet before any hashing, and
// one PIN is checked at a time (each check takes 64 MiB).
func (a *API) signIn(c echo.Context) error {
	var in struct {
		StaffNumber string `json:"staff_number"`
		PIN         string `json:"pin"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if in.StaffNumber == "" || len(in.StaffNumber) > 20 || len(in.PIN) > 12 {
		return syncproto.Errorf(syncproto.CodeInvalid, "staff_number and pin are required")
	}
	if ok, wait := a.pinLimit.Allow(in.StaffNumber); !ok {
		return syncproto.Errorf(syncproto.CodeRateLimited, "too many wrong PINs for %s: try again in %s", in.StaffNumber, wait.Round(time.Second))
	}
	if ok, wait := a.tabletLimit.Allow("tablet"); !ok {
		return syncproto.Errorf(syncproto.CodeRateLimited, "too many wrong PINs on this tablet: try again in %s", wait.Round(time.Second))
	}
	m, found, err := a.Store.CrewMember(in.StaffNumber)
	if err != nil {
		return err
	}
	good := false
	if found {
		a.verifyMu.Lock()
		good, err = secrethash.Verify(m.PINHash, in.PIN)
		a.verifyMu.Unlock()
		if err != nil {
			a.Log.Error("roster entry unreadable", "staff", in.StaffNumber, "err", err)
			good = false
		}
	}
	if !good {
		a.pinLimit.Fail(in.StaffNumber)
		a.tabletLimit.Fail("tablet")
		a.Log.Warn("crew sign-in refused", "staff", in.StaffNumber, "known", found)
		if a.Store.RosterVersion() == 0 {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "this tablet has no crew roster yet: connect it to the ground once")
		}
		return syncproto.Errorf(syncproto.CodeUnauthorized, "wrong staff number or PIN")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	a.sessions.mu.Lock()
	a.sessions.byHash[sha256.Sum256([]byte(token))] = &crewSession{staff: m.StaffNumber, name: m.Name, last: a.Now()}
	a.sessions.mu.Unlock()
	a.Log.Info("crew signed in", "staff", m.StaffNumber)
	return c.JSON(http.StatusOK, map[string]any{"token": token, "staff_number": m.StaffNumber, "name": m.Name, "idle_timeout_seconds": int(a.SessionIdle.Seconds())})
}

// whoAmI answers who the token belongs to (the UI shows it).
func (a *API) whoAmI(c echo.Context) error {
	act := a.actor(c)
	return c.JSON(http.StatusOK, map[string]any{"staff_number": act.Staff, "name": act.Name})
}

// signOut ends the caller's session.
func (a *API) signOut(c echo.Context) error {
	_, token, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	a.sessions.mu.Lock()
	delete(a.sessions.byHash, sha256.Sum256([]byte(token)))
	a.sessions.mu.Unlock()
	return c.NoContent(http.StatusNoContent)
}
