package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/webhook"
	"github.com/cabincare/cabincare/syncproto"
)

// registerWebhooks puts each adapter's routes on e, outside the bearer
// token: GET /api/v1/webhooks/{name} answers the platform's handshake and
// POST takes its events, checked against the shared secret's signature.
func (a *API) registerWebhooks(e *echo.Echo) {
	if a.Webhooks == nil {
		a.Webhooks = webhook.Default()
	}
	for _, name := range a.Webhooks.Names() {
		ad, _ := a.Webhooks.Get(name)
		e.GET("/api/v1/webhooks/"+name, func(c echo.Context) error { return a.webhookHandshake(c, ad) })
		e.POST("/api/v1/webhooks/"+name, func(c echo.Context) error { return a.webhookEvents(c, ad) })
	}
}

func (a *API) webhookConfigured() error {
	if a.WebhookSecret == "" {
		return syncproto.Errorf(syncproto.CodeUnavailable, "webhooks are off: the server has no --webhook-secret")
	}
	return nil
}

func (a *API) webhookHandshake(c echo.Context, ad webhook.Adapter) error {
	if err := a.webhookConfigured(); err != nil {
		return err
	}
	status, ctype, body := ad.Handshake(c.QueryParams(), a.WebhookSecret, a.WebhookVerifyToken)
	return c.Blob(status, ctype, body)
}

// WebhookResult counts what one delivery did.
type WebhookResult struct {
	Received   int `json:"received"`
	Created    int `json:"created"`
	Joined     int `json:"joined"`
	Duplicates int `json:"duplicates"`
	Refused    int `json:"refused"`
}

func (a *API) webhookEvents(c echo.Context, ad webhook.Adapter) error {
	if err := a.webhookConfigured(); err != nil {
		return err
	}
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, jsonapi.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return syncproto.Errorf(syncproto.CodeTooLarge, "request body is over %d bytes", jsonapi.MaxBody)
		}
		return syncproto.Errorf(syncproto.CodeInvalidJSON, "read body: %v", err)
	}
	// The signature first: nothing of an unsigned body is read.
	if err := ad.Verify(r.Header, body, a.WebhookSecret); err != nil {
		a.Log.Warn("webhook signature refused", "channel", ad.Name(), "remote", c.RealIP(), "err", err)
		return err
	}
	ins, err := ad.Parse(body)
	if err != nil {
		return err
	}
	by := syncproto.Actor{Type: syncproto.ActorSystem, ID: "webhook:" + ad.Name()}
	res := WebhookResult{Received: len(ins)}
	for _, in := range ins {
		_, outcome, err := a.Care.Receive(r.Context(), by, in)
		switch {
		case err != nil && syncproto.ErrorCode(err) == syncproto.CodeInternal:
			// A store failure: answer 500 so the platform delivers again
			// (the intake is idempotent, so a retry doubles nothing).
			return err
		case err != nil:
			// A message we cannot take would be refused again on every
			// retry: log it and go on.
			a.Log.Warn("webhook message refused", "channel", ad.Name(), "external_id", in.ExternalID, "err", err)
			res.Refused++
		case outcome == care.IntakeCreated:
			res.Created++
		case outcome == care.IntakeJoined:
			res.Joined++
		default:
			res.Duplicates++
		}
	}
	return c.JSON(http.StatusOK, res)
}
