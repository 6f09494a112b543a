package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/syncproto"
)

// maxQRText keeps a code readable by a tablet camera at the size drawn.
const maxQRText = 512

// qr answers POST /api/v1/qr {"text"} with a PNG QR code of text: the fleet
// dashboard shows a new device's enrolment code as one, for the tablet's
// camera. A POST (not an image URL) keeps the code out of URLs and logs.
func (a *API) qr(c echo.Context) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if in.Text == "" || len(in.Text) > maxQRText {
		return syncproto.Errorf(syncproto.CodeInvalid, "text is required (at most %d bytes)", maxQRText)
	}
	png, err := qrcode.Encode(in.Text, qrcode.Medium, 320)
	if err != nil {
		return syncproto.Errorf(syncproto.CodeInvalid, "text cannot be drawn as a QR code: %v", err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}
