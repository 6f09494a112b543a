package api

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Manifests.

func (a *API) listPassengers(c echo.Context) error {
	ps, err := a.Care.FlightManifest(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"flight_id": c.Param("id"), "passengers": ps, "count": len(ps)})
}

// MaxPassengersPerCall bounds one POST of manifest lines.
const MaxPassengersPerCall = 1000

// PutResultView is one manifest line's result.
type PutResultView struct {
	Index  int              `json:"index"`
	Result string           `json:"result"`
	Error  *syncproto.Error `json:"error,omitempty"`
}

func (a *API) addPassengers(c echo.Context) error {
	var in struct {
		Passengers []care.NewPassenger `json:"passengers"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if len(in.Passengers) == 0 || len(in.Passengers) > MaxPassengersPerCall {
		return syncproto.Errorf(syncproto.CodeInvalid, "passengers must hold 1 to %d manifest lines", MaxPassengersPerCall)
	}
	ctx := c.Request().Context()
	flight := c.Param("id")
	if _, err := a.Store.Flight(ctx, flight); err != nil {
		return err
	}
	ids := make([]string, len(in.Passengers))
	for i := range ids {
		ids[i] = flight
	}
	rs, err := a.Care.AddPassengers(ctx, ids, in.Passengers)
	if err != nil {
		return err
	}
	out := make([]PutResultView, len(rs))
	created := 0
	for i, r := range rs {
		out[i] = PutResultView{Index: i, Result: r.Result}
		if r.Err != nil {
			out[i].Error = &syncproto.Error{Code: syncproto.ErrorCode(r.Err), Message: syncproto.ErrorMessage(r.Err)}
		}
		if r.Result == store.PutCreated {
			created++
		}
	}
	status := http.StatusOK
	if created > 0 {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"results": out})
}

// Matching.

func (a *API) matches(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	m, err := a.Care.Matches(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// Reply, merge, target.

func (a *API) reply(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in care.ReplyRequest
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if _, err := a.Care.Reply(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusCreated, id)
}

func (a *API) merge(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in care.MergeRequest
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if _, err := a.Care.Merge(c.Request().Context(), actor(c), id, in); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

func (a *API) setTarget(c echo.Context) error {
	id, err := jsonapi.UUIDParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Minutes *float64 `json:"minutes"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if in.Minutes == nil || math.IsNaN(*in.Minutes) || *in.Minutes < 0 || *in.Minutes > care.MaxTarget.Minutes() {
		return syncproto.Errorf(syncproto.CodeInvalid, "minutes is required: from 1 to %.0f, or 0 to go back to the priority's target", care.MaxTarget.Minutes())
	}
	target := time.Duration(*in.Minutes * float64(time.Minute))
	if _, err := a.Care.SetTarget(c.Request().Context(), id, target); err != nil {
		return notFound(err)
	}
	return a.respondEnquiry(c, http.StatusOK, id)
}

// Queue.

// QueueItemView is one open enquiry in the agents' queue.
type QueueItemView struct {
	ID            string           `json:"id"`
	Channel       string           `json:"channel"`
	Language      string           `json:"language"`
	Handle        string           `json:"handle"`
	Customer      string           `json:"customer,omitempty"`
	Text          string           `json:"text"`
	Status        syncproto.Status `json:"status"`
	FlightID      string           `json:"flight_id"`
	ReceivedAt    time.Time        `json:"received_at"`
	LastMessageAt time.Time        `json:"last_message_at"`
	Public        bool             `json:"public"`
	Followers     int              `json:"followers"`
	Priority      store.Priority   `json:"priority"`
	TargetMinutes float64          `json:"target_minutes"`
	// Deadline is when an answer is due (nil when nothing is owed);
	// Overdue is Deadline before now.
	Deadline      *time.Time `json:"deadline"`
	Overdue       bool       `json:"overdue"`
	AwaitingSince *time.Time `json:"awaiting_since"`
	Flagged       bool       `json:"flagged"`
	// ReplyWindowClosesAt is when the channel stops taking replies;
	// InterimReply asks for a reply before then, because it closes before
	// the passenger's flight lands.
	ReplyWindowClosesAt *time.Time            `json:"reply_window_closes_at,omitempty"`
	LandsAt             *time.Time            `json:"lands_at,omitempty"`
	InterimReply        bool                  `json:"interim_reply"`
	Resolution          *syncproto.Resolution `json:"resolution,omitempty"`
}

func (a *API) queue(c echo.Context) error {
	f := store.QueueFilter{Language: c.QueryParam("language"), Channel: c.QueryParam("channel"), Limit: 200}
	if f.Channel != "" && !syncproto.IsChannel(f.Channel) {
		return syncproto.Errorf(syncproto.CodeInvalid, "channel %q is not one of %s", f.Channel, strings.Join(syncproto.Channels, ", "))
	}
	if len(f.Language) > 35 {
		return syncproto.Errorf(syncproto.CodeInvalid, "language is too long")
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			return syncproto.Errorf(syncproto.CodeInvalid, "limit must be a number from 1 to 10000")
		}
		f.Limit = n
	}
	items, err := a.Store.Queue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	now := a.Now().UTC()
	out := make([]QueueItemView, len(items))
	for i, it := range items {
		e, cr := it.Enquiry, it.Care
		out[i] = QueueItemView{
			ID: e.ID.String(), Channel: e.Channel, Language: e.Language, Handle: e.Handle, Customer: e.Customer, Text: e.Text,
			Status: store.EffectiveStatus(e, it.Delivery), FlightID: e.FlightID, ReceivedAt: e.ReceivedAt, LastMessageAt: e.LastMessageAt,
			Public: cr.Public, Followers: cr.Followers, Priority: cr.Priority, TargetMinutes: cr.Target.Minutes(),
			Deadline: cr.Deadline, Overdue: cr.Deadline != nil && cr.Deadline.Before(now), AwaitingSince: cr.AwaitingSince, Flagged: cr.Flagged,
			ReplyWindowClosesAt: cr.ReplyWindowClosesAt, LandsAt: cr.LandsAt, InterimReply: cr.InterimReply, Resolution: e.Resolution,
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"queue": out, "count": len(out), "now": now})
}

// Templates.

func (a *API) listTemplates(c echo.Context) error {
	ts, err := a.Store.Templates(c.Request().Context())
	if err != nil {
		return err
	}
	if lang := c.QueryParam("language"); lang != "" {
		kept := ts[:0]
		for _, t := range ts {
			if t.Language == lang {
				kept = append(kept, t)
			}
		}
		ts = kept
	}
	return c.JSON(http.StatusOK, map[string]any{"templates": ts, "placeholders": care.Placeholders})
}

func (a *API) createTemplate(c echo.Context) error {
	var in care.TemplateInput
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	t, err := a.Care.CreateTemplate(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (a *API) getTemplate(c echo.Context) error {
	t, err := a.Store.Template(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (a *API) updateTemplate(c echo.Context) error {
	var in care.TemplateInput
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	t, err := a.Care.UpdateTemplate(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (a *API) deleteTemplate(c echo.Context) error {
	if err := a.Store.DeleteTemplate(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Figures.

func (a *API) responseMetrics(c echo.Context) error {
	m, err := a.Care.ResponseMetrics(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (a *API) metricsBreakdown(c echo.Context) error {
	now := a.Now().UTC()
	figure, by := c.QueryParam("figure"), c.QueryParam("by")
	if figure == "" {
		figure = store.FigureFirstResponse
	}
	if by == "" {
		by = "channel"
	}
	if by == "agent" {
		if err := a.requireRole(c, auth.RoleSupervisor, "every agent's figures"); err != nil {
			return err
		}
	}
	from, to := now.Add(-care.ShareWindow), now
	for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := c.QueryParam(name); v != "" {
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return syncproto.Errorf(syncproto.CodeInvalid, "%s %q is not an RFC 3339 time such as 2026-11-23T10:00:00Z", name, v)
			}
			*t = p.UTC()
		}
	}
	b, err := a.Care.Breakdown(c.Request().Context(), figure, by, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (a *API) outbound(c echo.Context) error {
	recs, ok := a.Care.Outbound()
	if !ok {
		return syncproto.Errorf(syncproto.CodeNotFound, "replies go to the social networks: there is no recording sender")
	}
	if recs == nil {
		recs = []care.OutboundRecord{}
	}
	if id := c.QueryParam("enquiry"); id != "" {
		kept := recs[:0]
		for _, r := range recs {
			if r.Enquiry.String() == id {
				kept = append(kept, r)
			}
		}
		recs = kept
	}
	return c.JSON(http.StatusOK, map[string]any{"outbound": recs, "count": len(recs)})
}

// Public figures: no auth, cacheable until the next 5-minute refresh.

func (a *API) cacheUntilRefresh(c echo.Context, asOf time.Time) {
	left := asOf.Add(care.MetricsRefresh).Sub(a.Now().UTC())
	secs := int(math.Ceil(left.Seconds()))
	secs = min(max(secs, 1), int(care.MetricsRefresh.Seconds()))
	c.Response().Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", secs))
	c.Response().Header().Set("Last-Modified", asOf.Format(http.TimeFormat))
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
}

func (a *API) publicResponseTime(c echo.Context) error {
	p, err := a.Care.PublicResponseTime(c.Request().Context(), c.QueryParam("lang"))
	if err != nil {
		return err
	}
	a.cacheUntilRefresh(c, p.AsOf)
	return c.JSON(http.StatusOK, p)
}

// The banner is 1500x500, the size of a profile header on X and close to
// Facebook's cover.
const bannerSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="1500" height="500" viewBox="0 0 1500 500" role="img" aria-label="%[1]s">
<rect width="1500" height="500" fill="#00a1de"/>
<text x="750" y="270" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="64" font-weight="bold" fill="#ffffff">%[1]s</text>
<text x="750" y="350" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="30" fill="#e6f6fc">%[2]s</text>
</svg>
`

func (a *API) publicResponseBanner(c echo.Context) error {
	p, err := a.Care.PublicResponseTime(c.Request().Context(), c.QueryParam("lang"))
	if err != nil {
		return err
	}
	a.cacheUntilRefresh(c, p.AsOf)
	sub := "Updated " + p.AsOf.Format("15:04") + " UTC"
	body := fmt.Sprintf(bannerSVG, html.EscapeString(p.Text), html.EscapeString(sub))
	return c.Blob(http.StatusOK, "image/svg+xml; charset=utf-8", []byte(body))
}
