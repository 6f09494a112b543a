package api

import (
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cabincare/cabincare/attempts"
	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server/auth"
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
	// SessionTTL is how long a login lasts (DefaultSessionTTL if zero).
	SessionTTL time.Duration
	// EnrolTTL is how long a device's enrolment code can be used
	// (DefaultEnrolTTL if zero).
	EnrolTTL time.Duration
	// PasswordParams are argon2id's costs (auth.DefaultParams if zero).
	PasswordParams auth.Params
	// PINParams are the costs of crew PIN hashes (secrethash.PINParams if
	// zero).
	PINParams secrethash.Params

	roles             map[string]auth.Role // "METHOD /path" -> the role it needs
	addrLimit         *attempts.Limiter    // failed passwords and enrolment codes per client address
	tokenAuditLimit   *attempts.Limiter    // audited bad bearer tokens per client address
	loginAccountLimit *attempts.Limiter    // failed logins per username
}

// Defaults of the API's security settings.
const (
	DefaultSessionTTL = 12 * time.Hour // a working shift
	DefaultEnrolTTL   = 15 * time.Minute
	// Guessing limits: a username gets 5 wrong passwords per 15 minutes,
	// an address 20 wrong passwords or enrolment codes.
	LoginAccountFailures = 5
	AddrFailures         = 20
	FailureWindow        = 15 * time.Minute
)

func (a *API) setDefaults() {
	if a.SessionTTL <= 0 {
		a.SessionTTL = DefaultSessionTTL
	}
	if a.EnrolTTL <= 0 {
		a.EnrolTTL = DefaultEnrolTTL
	}
	if a.PasswordParams == (auth.Params{}) {
		a.PasswordParams = auth.DefaultParams
	}
	if a.PINParams == (secrethash.Params{}) {
		a.PINParams = secrethash.PINParams
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	a.addrLimit = attempts.NewLimiter(AddrFailures, FailureWindow)
	a.addrLimit.Now = a.Now
	a.tokenAuditLimit = attempts.NewLimiter(AddrFailures, FailureWindow)
	a.tokenAuditLimit.Now = a.Now
	a.loginAccountLimit = attempts.NewLimiter(LoginAccountFailures, FailureWindow)
	a.loginAccountLimit.Now = a.Now
	a.roles = map[string]auth.Role{}
}

// Register puts every route on e. Every /api/v1 route names the least role
// that may call it (agent < supervisor < admin); authenticate refuses a
// route registered without one.
func (a *API) Register(e *echo.Echo) {
	a.setDefaults()
	e.HTTPErrorHandler = jsonapi.ErrorHandler(a.Log)
	e.IPExtractor = echo.ExtractIPDirect() // never trust X-Forwarded-For for limits or the audit log
	if a.Metrics != nil {
		e.Use(telemetry.HTTP(a.Metrics))
		e.GET("/metrics", telemetry.Handler(a.Metrics)) // Prometheus text format; no token, like the probes
	}

	const (
		agent      = auth.RoleAgent
		supervisor = auth.RoleSupervisor
		admin      = auth.RoleAdmin
	)
	e.GET("/healthz", a.healthz)                               // alive
	e.GET("/readyz", a.readyz)                                 // store open, accepting
	e.GET("/sync", echo.WrapHandler(a.Hub))                    // device WebSocket (auth in the hello frame)
	e.GET("/public/response-time", a.publicResponseTime)       // no auth: {average_minutes,text,...}; ?lang=
	e.GET("/public/response-time.svg", a.publicResponseBanner) // no auth: a profile banner image; ?lang=
	e.POST("/api/v1/login", a.login)                           // no auth: {username,password} -> {token,csrf_token,user}, sets the cookies
	e.POST("/api/v1/enrol", a.enrol)                           // no auth (the one-time code is the credential): {code} -> {device_id,token}
	a.registerWebhooks(e)                                      // /api/v1/webhooks/:channel: signed, no bearer token
	v1 := e.Group("/api/v1", a.authenticate)                   // bearer token, or session cookie + X-CSRF-Token
	r := func(method, path string, need auth.Role, h echo.HandlerFunc) {
		a.roles[method+" /api/v1"+path] = need
		v1.Add(method, path, h)
	}
	r(http.MethodPost, "/logout", agent, a.logout)                               // ends this session, clears the cookies
	r(http.MethodGet, "/me", agent, a.me)                                        // {username,role,via}
	r(http.MethodPost, "/flights", admin, a.createFlight)                        // {number,date,origin,destination,...}
	r(http.MethodGet, "/flights", agent, a.listFlights)                          //
	r(http.MethodGet, "/flights/:id", agent, a.getFlight)                        // id: NUMBER-DATE
	r(http.MethodGet, "/flights/:id/passengers", agent, a.listPassengers)        // the manifest, by seat
	r(http.MethodPost, "/flights/:id/passengers", admin, a.addPassengers)        // {passengers:[{name,pnr,seat,cabin,tier,handles,other_flights}]}
	r(http.MethodPost, "/flights/:id/close", supervisor, a.closeFlight)          // tablets purge its passenger data (after their retention)
	r(http.MethodGet, "/flights/:id/purges", admin, a.flightPurges)              // {purges:[{device_id,flight,enquiries,ops,at,recorded_at}],devices_missing:[...]}
	r(http.MethodPost, "/enquiries", agent, a.createEnquiry)                     // {channel,external_id,handle,text,language,public,followers,thread,...}
	r(http.MethodGet, "/enquiries", agent, a.listEnquiries)                      // ?status=&flight_id=&limit=
	r(http.MethodGet, "/enquiries/:id", agent, a.getEnquiry)                     //
	r(http.MethodGet, "/enquiries/:id/matches", agent, a.matches)                // ranked candidate passengers and flights
	r(http.MethodPost, "/enquiries/:id/assign", agent, a.assign)                 // {flight_id,passenger_id,passenger_name,seat,instructions}; moving to another flight: supervisor
	r(http.MethodPost, "/enquiries/:id/notes", agent, a.addNote)                 // {text}
	r(http.MethodPost, "/enquiries/:id/recall", agent, a.recall)                 // {reason}
	r(http.MethodPost, "/enquiries/:id/reply", agent, a.reply)                   // {template_id,text}
	r(http.MethodPost, "/enquiries/:id/merge", agent, a.merge)                   // {from,reason}: absorb enquiry "from" into this one
	r(http.MethodPut, "/enquiries/:id/target", agent, a.setTarget)               // {minutes}: this enquiry's response target (0 resets)
	r(http.MethodPost, "/enquiries/:id/close", agent, a.closeEnquiry)            // {force,reason}; force: supervisor
	r(http.MethodGet, "/queue", agent, a.queue)                                  // ?language=&channel=&limit=
	r(http.MethodGet, "/templates", agent, a.listTemplates)                      // ?language=
	r(http.MethodPost, "/templates", admin, a.createTemplate)                    // {id,name,language,text}
	r(http.MethodGet, "/templates/:id", agent, a.getTemplate)                    //
	r(http.MethodPut, "/templates/:id", admin, a.updateTemplate)                 // {name,language,text}
	r(http.MethodDelete, "/templates/:id", admin, a.deleteTemplate)              //
	r(http.MethodGet, "/metrics/response", agent, a.responseMetrics)             // headline figures (5-minute refresh)
	r(http.MethodGet, "/metrics", agent, a.metricsBreakdown)                     // ?figure=&by=&from=&to=; by=agent: supervisor
	r(http.MethodGet, "/outbound", agent, a.outbound)                            // what the recording sender took
	r(http.MethodPost, "/devices", admin, a.createDevice)                        // {name} -> id, enrolment_code, expires_at
	r(http.MethodGet, "/devices", admin, a.listDevices)                          // ?flight=&online=true|false&problem=any|none|RULE
	r(http.MethodGet, "/devices/:id", admin, a.getDevice)                        // ?history=24h: with its samples over that span
	r(http.MethodPost, "/devices/:id/revoke", admin, a.revokeDevice)             // disconnects at once
	r(http.MethodPost, "/devices/:id/rename", admin, a.renameDevice)             // {name}
	r(http.MethodPost, "/devices/:id/resync", admin, a.resyncDevice)             // the device re-pulls everything, keeping its outbox
	r(http.MethodPost, "/devices/:id/decommission", admin, a.decommissionDevice) // 200 done, or 202 until its outbox is drained
	r(http.MethodGet, "/alerts", admin, a.listAlerts)                            // current health alerts, critical first
	r(http.MethodGet, "/flights/:id/readiness", agent, a.flightReadiness)        // each assigned enquiry and the tablets that have it
	r(http.MethodGet, "/events", agent, a.events)                                // Server-Sent Events; ?types=device,alert,enquiry (device and alert: admin)
	r(http.MethodPost, "/qr", admin, a.qr)                                       // {text}: a PNG QR code (the fleet dashboard's enrolment code)
	r(http.MethodPost, "/devices/:id/rotate", admin, a.rotateDevice)             // -> a new enrolment_code; the old credential ends when it is used
	r(http.MethodPut, "/devices/:id/flights", admin, a.bindDevice)               // {aircraft:[REG],flights:[ID]}: the flights it may serve ([] and []: any)
	r(http.MethodPost, "/crew", admin, a.createCrew)                             // {staff_number,name,pin}: the roster tablets check sign-ins against
	r(http.MethodGet, "/crew", admin, a.listCrew)                                //
	r(http.MethodDelete, "/crew/:staff", admin, a.deleteCrew)                    //
	r(http.MethodPost, "/users", admin, a.createUser)                            // {username,password,role}
	r(http.MethodGet, "/users", admin, a.listUsers)                              //
	r(http.MethodPut, "/users/:username", admin, a.updateUser)                   // {role,password,disabled}: ends the user's sessions
	r(http.MethodPost, "/tokens", admin, a.createToken)                          // {username,name,expires_in} -> an API token (shown once)
	r(http.MethodGet, "/tokens", admin, a.listTokens)                            // ?kind=api|session
	r(http.MethodDelete, "/tokens/:id", admin, a.deleteToken)                    //
	r(http.MethodGet, "/audit", admin, a.auditLog)                               // ?kind=&actor=&subject=&since=&until=&before=&limit=
	v1.RouteNotFound("", jsonapi.NoRoute(e))                                     // after auth: 404, or 405 if another method has the path
	v1.RouteNotFound("/*", jsonapi.NoRoute(e))                                   //
	e.RouteNotFound("/api/*", jsonapi.NoRoute(e))                                // other API versions: JSON, not the UI's 404 page
	if a.UI != nil {
		e.GET("/*", echo.WrapHandler(http.FileServerFS(a.UI)))
	}
}

// Roles is the role table: "METHOD /path" -> the least role that may call
// it (after Register). Tests walk it against echo's routes.
func (a *API) Roles() map[string]auth.Role { return maps.Clone(a.roles) }

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
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "epoch": a.Store.Epoch(), "head": a.Store.Head(), "projection_pending": a.Store.Pending(), "devices_connected": a.Hub.Connected(), "goroutines": runtime.NumGoroutine()})
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
	if err := a.checkReassign(c, id, in); err != nil {
		return err
	}
	if _, err := a.Care.AssignPassenger(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

// checkReassign asks for a supervisor when an assignment would move an
// enquiry that is on a flight to another one: the crew of the first flight
// may be working on it.
func (a *API) checkReassign(c echo.Context, id uuid.UUID, in care.AssignRequest) error {
	if principal(c).Role.Allows(auth.RoleSupervisor) {
		return nil
	}
	e, _, err := a.Store.Enquiry(c.Request().Context(), id)
	if err != nil {
		return nil // the workflow answers for a missing enquiry
	}
	target := in.FlightID
	if target == "" {
		target, _, _ = strings.Cut(in.PassengerID, "/")
	}
	if e.FlightID == "" || e.Status == syncproto.StatusNew || target == e.FlightID {
		return nil
	}
	return a.requireRole(c, auth.RoleSupervisor, "moving an enquiry to another flight")
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
	if in.Force {
		if err := a.requireRole(c, auth.RoleSupervisor, "a forced close"); err != nil {
			return err
		}
	}
	if _, err := a.Care.Close(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}
