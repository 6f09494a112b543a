package api

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cabincare/cabincare/attempts"
	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// Syncer is what the API needs from the sync client.
type Syncer interface {
	Wake()
	FlightsChanged()
	Connected() bool
	LastError() (string, time.Time)
}

// API holds what the handlers use.
type API struct {
	Store    *store.Store
	IDs      *syncproto.IDs
	Sync     Syncer
	DeviceID string
	UI       fs.FS // the crew app, served at /
	Log      *slog.Logger
	// Metrics is the registry served at /metrics (nil: no route).
	Metrics *prometheus.Registry
	// APIToken, if set, is a bearer token for automation that the local
	// API accepts besides crew sessions (ops it writes name no crew).
	APIToken string
	// SessionIdle locks a crew session unused this long
	// (DefaultSessionIdle if zero).
	SessionIdle time.Duration
	Now         func() time.Time

	sessions    *sessions
	pinLimit    *attempts.Limiter // wrong PINs per staff number
	tabletLimit *attempts.Limiter // wrong PINs on this tablet
	verifyMu    sync.Mutex        // one PIN check (64 MiB) at a time
}

// Register puts every route on e.
func (a *API) Register(e *echo.Echo) {
	if a.IDs == nil {
		a.IDs = syncproto.NewIDs()
	}
	a.setupSessions()
	e.HTTPErrorHandler = jsonapi.ErrorHandler(a.Log)
	if a.Metrics != nil {
		e.Use(telemetry.HTTP(a.Metrics))
		e.GET("/metrics", telemetry.Handler(a.Metrics)) // Prometheus text format
	}
	crew := a.requireCrew                                    // Authorization: Bearer TOKEN from POST /api/v1/session
	e.GET("/healthz", a.healthz)                             // open: alive
	e.GET("/readyz", a.readyz)                               // open: store answers: {status,pending,connected}
	e.GET("/api/v1/status", a.status)                        // open: sync state, derived from the store
	e.POST("/api/v1/session", a.signIn)                      // open: {staff_number,pin} -> {token,staff_number,name}
	e.GET("/api/v1/session", a.whoAmI, crew)                 // who is signed in
	e.DELETE("/api/v1/session", a.signOut, crew)             // sign out (lock the tablet)
	e.GET("/api/v1/flight", a.getFlight, crew)               // the open flight
	e.PUT("/api/v1/flight", a.openFlight, crew)              // {flight_id}
	e.GET("/api/v1/enquiries", a.listEnquiries, crew)        // the open flight's, most urgent first
	e.GET("/api/v1/enquiries/:id", a.getEnquiry, crew)       //
	e.POST("/api/v1/enquiries/:id/ack", a.ack, crew)         // seen by the crew
	e.POST("/api/v1/enquiries/:id/notes", a.addNote, crew)   // {text}
	e.POST("/api/v1/enquiries/:id/resolve", a.resolve, crew) // {outcome,note}
	e.GET("/api/v1/dead-letters", a.deadLetters, crew)       // ops the ground refused
	e.RouteNotFound("/api/*", jsonapi.NoRoute(e))            // JSON 404/405, never the UI's page
	if a.UI != nil {
		e.GET("/*", echo.WrapHandler(http.FileServerFS(a.UI)))
	}
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 while the store answers reads. A tablet with no link
// is still ready: the crew work offline.
func (a *API) readyz(c echo.Context) error {
	st, err := a.Store.Status()
	if err != nil {
		a.Log.Error("store not ready", "err", err)
		return syncproto.Errorf(syncproto.CodeUnavailable, "store is not healthy")
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "pending": st.Pending, "connected": a.Sync.Connected()})
}

// StatusView is the sync state crew and admins see. "synced" is true only
// when the outbox is empty and the last exchange caught up with the ground.
type StatusView struct {
	DeviceID      string            `json:"device_id"`
	Connected     bool              `json:"connected"`
	Pending       int               `json:"pending"`
	OldestPending *time.Time        `json:"oldest_pending"`
	DeadLetters   int               `json:"dead_letters"`
	LastSync      *time.Time        `json:"last_sync"`
	LastPush      *time.Time        `json:"last_push"`
	LastPull      *time.Time        `json:"last_pull"`
	Cursor        uint64            `json:"cursor"`
	Cursors       map[string]uint64 `json:"cursors"`
	FlightID      string            `json:"flight_id"`
	Enquiries     int               `json:"enquiries"`
	LastError     string            `json:"last_error,omitempty"`
}

func (a *API) status(c echo.Context) error {
	st, err := a.Store.Status()
	if err != nil {
		return err
	}
	v := StatusView{
		DeviceID: a.DeviceID, Connected: a.Sync.Connected(), Pending: st.Pending, OldestPending: st.OldestPending,
		DeadLetters: st.DeadLetters, LastSync: st.LastSync, LastPush: st.LastPush, LastPull: st.LastPull,
		Cursor: st.Cursors[st.CurrentFlight], Cursors: st.Cursors, FlightID: st.CurrentFlight, Enquiries: st.Enquiries,
	}
	v.LastError, _ = a.Sync.LastError()
	return c.JSON(http.StatusOK, v)
}

func (a *API) getFlight(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"flight_id": a.Store.CurrentFlight()})
}

func (a *API) openFlight(c echo.Context) error {
	var in struct {
		FlightID string `json:"flight_id"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	in.FlightID = strings.TrimSpace(in.FlightID) // "  " is no flight
	if err := a.Store.OpenFlight(in.FlightID); err != nil {
		return err
	}
	a.Sync.FlightsChanged()
	a.Log.Info("crew opened flight", "flight", in.FlightID)
	return c.JSON(http.StatusOK, map[string]string{"flight_id": in.FlightID})
}

func (a *API) listEnquiries(c echo.Context) error {
	flight := a.Store.CurrentFlight()
	list := []json.RawMessage{}
	if flight != "" {
		var err error
		if list, err = a.Store.List(c.Request().Context(), flight); err != nil {
			return err
		}
	}
	// The stored summaries are json.Marshal output already; writing them
	// out directly skips re-validating every byte of them.
	var buf bytes.Buffer
	fid, _ := json.Marshal(flight)
	buf.WriteString(`{"flight_id":`)
	buf.Write(fid)
	buf.WriteString(`,"enquiries":[`)
	for i, raw := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(raw)
	}
	buf.WriteString("]}\n")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf.Bytes())
}

// EnquiryView is an enquiry as the crew see it: an assigned enquiry on this
// tablet has, by definition, been delivered.
type EnquiryView struct {
	*syncproto.Enquiry
	Status syncproto.Status `json:"status"`
}

func view(e *syncproto.Enquiry) EnquiryView {
	return EnquiryView{Enquiry: e, Status: store.CrewStatus(e.Status)}
}

func (a *API) getEnquiry(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	e, err := a.Store.Enquiry(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view(e))
}

func (a *API) record(c echo.Context, kind syncproto.Kind, data any, status int) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	op := syncproto.Op{
		ID: a.IDs.New(), Enquiry: id, Kind: kind, HLC: a.Store.Clock.Tick(),
		Actor: a.actor(c),
	}
	if data != nil {
		op.Data = syncproto.MustData(data)
	}
	e, err := a.Store.Record(c.Request().Context(), op)
	if err != nil {
		return err
	}
	a.Sync.Wake()
	return c.JSON(status, view(e))
}

func (a *API) ack(c echo.Context) error {
	var in struct{}
	if err := jsonapi.Bind(c, &in, true); err != nil {
		return err
	}
	return a.record(c, syncproto.KindAck, nil, http.StatusOK)
}

func (a *API) addNote(c echo.Context) error {
	var in syncproto.NoteData
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	return a.record(c, syncproto.KindNote, in, http.StatusCreated)
}

func (a *API) resolve(c echo.Context) error {
	var in syncproto.OutcomeData
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	return a.record(c, syncproto.KindOutcome, in, http.StatusOK)
}

func (a *API) deadLetters(c echo.Context) error {
	list, err := a.Store.DeadLetters()
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.DeadLetter{}
	}
	return c.JSON(http.StatusOK, map[string]any{"dead_letters": list})
}
