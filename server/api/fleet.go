package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/server/events"
	"github.com/cabincare/cabincare/server/fleet"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// The sync admins' routes: the fleet view, alerts, readiness, lifecycle
// actions and the live event stream (README "Fleet admin").

// who names the admin for the audit trail, as every audit entry does.
func who(c echo.Context) string { return principal(c).Who() }

func (a *API) listDevices(c echo.Context) error {
	f := fleet.Filter{Flight: c.QueryParam("flight"), Problem: c.QueryParam("problem")}
	switch o := c.QueryParam("online"); o {
	case "":
	case "true", "false":
		b := o == "true"
		f.Online = &b
	default:
		return syncproto.Errorf(syncproto.CodeInvalid, "online must be true or false")
	}
	switch f.Problem {
	case "", "any", "none", fleet.RuleNotSynced, fleet.RuleOutboxStale, fleet.RuleOutboxGrowing,
		fleet.RuleClockSkew, fleet.RuleProtocolOutdated, fleet.RuleSyncErrors:
	default:
		return syncproto.Errorf(syncproto.CodeInvalid, "problem must be any, none or a rule name (%s, %s, %s, %s, %s, %s)",
			fleet.RuleNotSynced, fleet.RuleOutboxStale, fleet.RuleOutboxGrowing, fleet.RuleClockSkew, fleet.RuleProtocolOutdated, fleet.RuleSyncErrors)
	}
	list, err := a.Fleet.Devices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"devices": list, "count": len(list)})
}

func (a *API) getDevice(c echo.Context) error {
	var history time.Duration
	if h := c.QueryParam("history"); h != "" {
		d, err := time.ParseDuration(h)
		if err != nil || d <= 0 || d > store.HistoryWindow {
			return syncproto.Errorf(syncproto.CodeInvalid, "history must be a duration up to %s, such as 24h or 90m", store.HistoryWindow)
		}
		history = d
	}
	v, err := a.Fleet.Device(c.Request().Context(), c.Param("id"), history)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (a *API) revokeDevice(c echo.Context) error {
	v, err := a.Fleet.Revoke(c.Request().Context(), who(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (a *API) renameDevice(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	v, err := a.Fleet.Rename(c.Request().Context(), who(c), c.Param("id"), in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (a *API) resyncDevice(c echo.Context) error {
	v, err := a.Fleet.Resync(c.Request().Context(), who(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (a *API) decommissionDevice(c echo.Context) error {
	id := c.Param("id")
	done, v, err := a.Fleet.Decommission(c.Request().Context(), who(c), id)
	if err != nil {
		return err
	}
	if done {
		return c.JSON(http.StatusOK, map[string]any{"id": id, "decommissioned": true})
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "decommissioned": false, "device": v})
}

func (a *API) listAlerts(c echo.Context) error {
	list, err := a.Fleet.Alerts(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"alerts": list, "count": len(list), "now": a.Now().UTC()})
}

func (a *API) flightReadiness(c echo.Context) error {
	r, err := a.Fleet.FlightReadiness(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// ssePing keeps idle event streams alive through proxies.
const ssePing = 15 * time.Second

// events streams live events as Server-Sent Events until the client goes
// away, the server stops, or the client falls behind (then an "overflow"
// event ends the stream; EventSource reconnects and the client reloads).
func (a *API) events(c echo.Context) error {
	var types []string
	if t := c.QueryParam("types"); t != "" {
		for _, s := range strings.Split(t, ",") {
			switch s {
			case events.TypeDevice, events.TypeAlert, events.TypeEnquiry:
				types = append(types, s)
			default:
				return syncproto.Errorf(syncproto.CodeInvalid, "types must be a comma-separated list of %s, %s, %s", events.TypeDevice, events.TypeAlert, events.TypeEnquiry)
			}
		}
	}
	// Device and alert events are the fleet view, for admins; agents
	// follow enquiries.
	if !principal(c).Role.Allows(auth.RoleAdmin) {
		if len(types) == 0 {
			types = []string{events.TypeEnquiry}
		}
		for _, t := range types {
			if t != events.TypeEnquiry {
				return syncproto.Errorf(syncproto.CodeForbidden, "%s events are for admins", t)
			}
		}
	}
	sub := a.Events.Subscribe(types...)
	defer a.Events.Unsubscribe(sub)
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w.Writer)
	write := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, s); err != nil {
			return false
		}
		w.Flush()
		return true
	}
	if !write("retry: 3000\n: connected\n\n") {
		return nil
	}
	ping := time.NewTicker(ssePing)
	defer ping.Stop()
	ctx := c.Request().Context()
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				if sub.Dropped {
					write("event: overflow\ndata: {}\n\n")
				}
				return nil
			}
			b, err := json.Marshal(ev.Data)
			if err != nil {
				a.Log.Error("encode event", "type", ev.Type, "err", err)
				continue
			}
			if !write("id: " + strconv.FormatUint(ev.ID, 10) + "\nevent: " + ev.Type + "\ndata: " + string(b) + "\n\n") {
				return nil
			}
		case <-ping.C:
			if !write(": ping\n\n") {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}
