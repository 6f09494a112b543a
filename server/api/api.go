package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/events"
	"github.com/cabincare/cabincare/server/fleet"
	"github.com/cabincare/cabincare/server/hub"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/server/webhook"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// API holds what the handlers use.
type API struct {
	Store *store.Store
	Care  *care.Service
	Hub   *hub.Hub
	// Fleet is the sync admins' view and actions; Events the live event
	// stream; Metrics the registry served at /metrics (nil: no route).
	Fleet      *fleet.Monitor
	Events     *events.Broker
	Metrics    *prometheus.Registry
	AdminToken string
	UI         fs.FS // the agent console, served at /
	Log        *slog.Logger
	Now        func() time.Time
	// Webhooks are the channel adapters (webhook.Default() if nil), signed
	// with WebhookSecret; without a secret their routes answer 503.
	// WebhookVerifyToken answers Meta's subscription handshake.
	Webhooks           *webhook.Registry
	WebhookSecret      string
	WebhookVerifyToken string
}

// Register puts every route on e.
func (a *API) Register(e *echo.Echo) {
	e.HTTPErrorHandler = jsonapi.ErrorHandler(a.Log)
	if a.Metrics != nil {
		e.Use(telemetry.HTTP(a.Metrics))
		e.GET("/metrics", telemetry.Handler(a.Metrics)) // Prometheus text format; no token, like the probes
	}

	e.GET("/healthz", a.healthz)                               // alive
	e.GET("/readyz", a.readyz)                                 // store open, accepting
	e.GET("/sync", echo.WrapHandler(a.Hub))                    // device WebSocket (auth in the hello frame)
	e.GET("/public/response-time", a.publicResponseTime)       // no auth: {average_minutes,text,...}; ?lang=
	e.GET("/public/response-time.svg", a.publicResponseBanner) // no auth: a profile banner image; ?lang=
	a.registerWebhooks(e)                                      // /api/v1/webhooks/:channel: signed, no bearer token
	v1 := e.Group("/api/v1", a.auth)                           // every call: Authorization: Bearer TOKEN
	v1.POST("/flights", a.createFlight)                        // {number,date,origin,destination,...}
	v1.GET("/flights", a.listFlights)                          //
	v1.GET("/flights/:id", a.getFlight)                        // id: NUMBER-DATE
	v1.GET("/flights/:id/passengers", a.listPassengers)        // the manifest, by seat
	v1.POST("/flights/:id/passengers", a.addPassengers)        // {passengers:[{name,pnr,seat,cabin,tier,handles,other_flights}]}
	v1.POST("/enquiries", a.createEnquiry)                     // {channel,external_id,handle,text,language,public,followers,thread,...}
	v1.GET("/enquiries", a.listEnquiries)                      // ?status=&flight_id=&limit=
	v1.GET("/enquiries/:id", a.getEnquiry)                     //
	v1.GET("/enquiries/:id/matches", a.matches)                // ranked candidate passengers and flights
	v1.POST("/enquiries/:id/assign", a.assign)                 // {flight_id,passenger_id,passenger_name,seat,instructions}
	v1.POST("/enquiries/:id/notes", a.addNote)                 // {text}
	v1.POST("/enquiries/:id/recall", a.recall)                 // {reason}
	v1.POST("/enquiries/:id/reply", a.reply)                   // {template_id,text}
	v1.POST("/enquiries/:id/merge", a.merge)                   // {from,reason}: absorb enquiry "from" into this one
	v1.PUT("/enquiries/:id/target", a.setTarget)               // {minutes}: this enquiry's response target (0 resets)
	v1.POST("/enquiries/:id/close", a.closeEnquiry)            // {force,reason}
	v1.GET("/queue", a.queue)                                  // ?language=&channel=&limit=
	v1.GET("/templates", a.listTemplates)                      // ?language=
	v1.POST("/templates", a.createTemplate)                    // {id,name,language,text}
	v1.GET("/templates/:id", a.getTemplate)                    //
	v1.PUT("/templates/:id", a.updateTemplate)                 // {name,language,text}
	v1.DELETE("/templates/:id", a.deleteTemplate)              //
	v1.GET("/metrics/response", a.responseMetrics)             // headline figures (5-minute refresh)
	v1.GET("/metrics", a.metricsBreakdown)                     // ?figure=&by=&from=&to=
	v1.GET("/outbound", a.outbound)                            // what the recording sender took
	v1.POST("/qr", a.qr)                                       // {text}: a PNG QR code (the fleet dashboard's enrolment code)
	v1.POST("/devices", a.createDevice)                        // {name} -> id, token (shown once)
	v1.GET("/devices", a.listDevices)                          // ?flight=&online=true|false&problem=any|none|RULE
	v1.GET("/devices/:id", a.getDevice)                        // ?history=24h: with its samples over that span
	v1.POST("/devices/:id/revoke", a.revokeDevice)             // disconnects at once
	v1.POST("/devices/:id/rename", a.renameDevice)             // {name}
	v1.POST("/devices/:id/resync", a.resyncDevice)             // the device re-pulls everything, keeping its outbox
	v1.POST("/devices/:id/decommission", a.decommissionDevice) // 200 done, or 202 until its outbox is drained
	v1.GET("/alerts", a.listAlerts)                            // current health alerts, critical first
	v1.GET("/flights/:id/readiness", a.flightReadiness)        // each assigned enquiry and the tablets that have it
	v1.GET("/events", a.events)                                // Server-Sent Events; ?types=device,alert,enquiry
	v1.RouteNotFound("", jsonapi.NoRoute(e))                   // after auth: 404, or 405 if another method has the path
	v1.RouteNotFound("/*", jsonapi.NoRoute(e))                 //
	e.RouteNotFound("/api/*", jsonapi.NoRoute(e))              // other API versions: JSON, not the UI's 404 page
	if a.UI != nil {
		e.GET("/*", echo.WrapHandler(http.FileServerFS(a.UI)))
	}
}

// notFound gives the REST answer for an op on a missing enquiry: the
// workflow refuses it with the sync code unknown_enquiry, but here a
// missing enquiry is not_found, as it is for GET.
func notFound(err error) error {
	var e *syncproto.Error
	if errors.As(err, &e) && e.Code == syncproto.CodeUnknownEnquiry {
		return &syncproto.Error{Code: syncproto.CodeNotFound, Message: e.Message}
	}
	return err
}

func (a *API) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		ok = ok && strings.EqualFold(scheme, "Bearer") // the scheme is case-insensitive (RFC 9110)
		if !ok || token == "" {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "an Authorization: Bearer token is required")
		}
		if a.AdminToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) != 1 {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "the token is not valid")
		}
		// The console names the agent at the keyboard (X-Agent), so
		// histories and per-agent figures say who did what.
		name := strings.TrimSpace(c.Request().Header.Get("X-Agent"))
		if len(name) > syncproto.MaxShortLen || !utf8.ValidString(name) {
			return syncproto.Errorf(syncproto.CodeInvalid, "X-Agent must be a name of at most %d bytes", syncproto.MaxShortLen)
		}
		c.Set("actor", syncproto.Actor{Type: syncproto.ActorAgent, ID: "admin", Name: name})
		return next(c)
	}
}

func actor(c echo.Context) syncproto.Actor {
	a, _ := c.Get("actor").(syncproto.Actor)
	return a
}

func (a *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) readyz(c echo.Context) error {
	if err := a.Store.Ping(); err != nil {
		a.Log.Error("store not ready", "err", err)
		return syncproto.Errorf(syncproto.CodeUnavailable, "store is not healthy")
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "epoch": a.Store.Epoch(), "head": a.Store.Head(), "devices_connected": a.Hub.Connected(), "goroutines": runtime.NumGoroutine()})
}

// Flights.

func (a *API) createFlight(c echo.Context) error {
	var in care.NewFlight
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	f, err := a.Care.CreateFlight(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, f)
}

func (a *API) listFlights(c echo.Context) error {
	fs, err := a.Store.Flights(c.Request().Context())
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []store.Flight{}
	}
	return c.JSON(http.StatusOK, map[string]any{"flights": fs})
}

func (a *API) getFlight(c echo.Context) error {
	f, err := a.Store.Flight(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// Enquiries.

// EnquiryView is an enquiry as agents see it: the folded state, with the
// status "delivered" once a tablet of the flight stored the hand-off.
type EnquiryView struct {
	*syncproto.Enquiry
	Status   syncproto.Status `json:"status"`
	Delivery *store.Delivery  `json:"delivery,omitempty"`
	// Care is the ground-only side: priority, deadline, reply window.
	Care *store.Care `json:"care,omitempty"`
	// Intake says what an intake did: created, duplicate or joined.
	Intake string `json:"intake,omitempty"`
}

func view(e *syncproto.Enquiry, d *store.Delivery) EnquiryView {
	return EnquiryView{Enquiry: e, Status: store.EffectiveStatus(e, d), Delivery: d}
}

func (a *API) createEnquiry(c echo.Context) error {
	var in care.Intake
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	return a.intake(c, actor(c), in)
}

// intake takes in one message and answers 201 with a new enquiry, or 200
// with the enquiry that has it already (duplicate) or that it joined.
func (a *API) intake(c echo.Context, by syncproto.Actor, in care.Intake) error {
	e, outcome, err := a.Care.Receive(c.Request().Context(), by, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if outcome != care.IntakeCreated {
		status = http.StatusOK // the same message delivered again, or a follow-up
	}
	return a.respondEnquiryAs(c, status, e.ID, outcome)
}

func (a *API) respondEnquiry(c echo.Context, status int, id uuid.UUID) error {
	return a.respondEnquiryAs(c, status, id, "")
}

func (a *API) respondEnquiryAs(c echo.Context, status int, id uuid.UUID, intake string) error {
	ctx := c.Request().Context()
	e, d, err := a.Store.Enquiry(ctx, id)
	if err != nil {
		return err
	}
	v := view(e, d)
	if v.Care, err = a.Store.Care(ctx, id); err != nil && syncproto.ErrorCode(err) != syncproto.CodeNotFound {
		return err
	}
	v.Intake = intake
	return c.JSON(status, v)
}

func (a *API) listEnquiries(c echo.Context) error {
	f := store.Filter{Status: syncproto.Status(c.QueryParam("status")), FlightID: c.QueryParam("flight_id"), Limit: 1000}
	if f.Status != "" && !syncproto.IsStatus(string(f.Status)) {
		return syncproto.Errorf(syncproto.CodeInvalid, "status %q is not a status", f.Status)
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return syncproto.Errorf(syncproto.CodeInvalid, "limit must be a number from 1 to 10000")
		}
		f.Limit = n
	}
	list, err := a.Store.Enquiries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]EnquiryView, len(list))
	for i, l := range list {
		out[i] = view(l.Enquiry, l.Delivery)
	}
	return c.JSON(http.StatusOK, map[string]any{"enquiries": out, "count": len(out)})
}

func (a *API) getEnquiry(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

func (a *API) assign(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in care.AssignRequest
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if _, err := a.Care.AssignPassenger(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

func (a *API) addNote(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in syncproto.NoteData
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if _, err := a.Care.AddNote(c.Request().Context(), actor(c), id, in.Text); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusCreated, id)
}

func (a *API) recall(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in syncproto.RecallData
	if err := jsonapi.Bind(c, &in, true); err != nil {
		return err
	}
	if _, err := a.Care.Recall(c.Request().Context(), actor(c), id, in.Reason); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

func (a *API) closeEnquiry(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in syncproto.CloseData
	if err := jsonapi.Bind(c, &in, true); err != nil {
		return err
	}
	if _, err := a.Care.Close(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

// Devices.

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
	token := newToken()
	d := store.Device{ID: uuid.NewString(), Name: in.Name, TokenHash: store.HashToken(token), CreatedAt: a.Now().UTC(), Cursors: map[string]uint64{}}
	if err := a.Store.CreateDevice(c.Request().Context(), &d); err != nil {
		return err
	}
	a.Log.Info("device registered", "device", d.ID, "name", d.Name)
	return c.JSON(http.StatusCreated, map[string]any{"id": d.ID, "name": d.Name, "token": token, "created_at": d.CreatedAt})
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
