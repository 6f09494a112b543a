package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

var (
	staffRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,20}$`)
	pinRE   = regexp.MustCompile(`^[0-9]{4,6}$`)
)

// CrewView is a crew member as the ground API shows them: never the hash.
type CrewView struct {
	StaffNumber string `json:"staff_number"`
	Name        string `json:"name"`
}

func (a *API) createCrew(c echo.Context) error {
	var in struct {
		StaffNumber string `json:"staff_number"`
		Name        string `json:"name"`
		PIN         string `json:"pin"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case !staffRE.MatchString(in.StaffNumber):
		return syncproto.Errorf(syncproto.CodeInvalid, "staff_number must be 1 to 20 letters, digits or dashes")
	case in.Name == "" || len(in.Name) > syncproto.MaxShortLen:
		return syncproto.Errorf(syncproto.CodeInvalid, "name is required (at most %d bytes)", syncproto.MaxShortLen)
	case !pinRE.MatchString(in.PIN):
		return syncproto.Errorf(syncproto.CodeInvalid, "pin must be 4 to 6 digits")
	}
	m := syncproto.RosterEntry{StaffNumber: in.StaffNumber, Name: in.Name, PINHash: secrethash.Hash(in.PIN, a.PINParams)}
	if err := a.Store.CreateCrew(c.Request().Context(), m); err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditCrewChanged, Actor: principal(c).Who(), Subject: "crew:" + m.StaffNumber, Remote: remote(c), Detail: "added"})
	a.Hub.RosterChanged(c.Request().Context())
	return c.JSON(http.StatusCreated, CrewView{StaffNumber: m.StaffNumber, Name: m.Name})
}

func (a *API) listCrew(c echo.Context) error {
	r, err := a.Store.Roster(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]CrewView, len(r.Crew))
	for i, m := range r.Crew {
		out[i] = CrewView{StaffNumber: m.StaffNumber, Name: m.Name}
	}
	return c.JSON(http.StatusOK, map[string]any{"crew": out, "version": r.Version})
}

func (a *API) deleteCrew(c echo.Context) error {
	staff := c.Param("staff")
	if err := a.Store.DeleteCrew(c.Request().Context(), staff); err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditCrewChanged, Actor: principal(c).Who(), Subject: "crew:" + staff, Remote: remote(c), Detail: "removed"})
	a.Hub.RosterChanged(c.Request().Context())
	return c.NoContent(http.StatusNoContent)
}
