package api_test

import (
	"bytes"
	"image/png"
	"testing"
)

// Ensure the QR endpoint draws a PNG and refuses an empty or oversized text.
func TestQR(t *testing.T) {
	g := MustOpenGround(t)
	t.Run("OK", func(t *testing.T) {
		status, ctype, raw := g.Do("POST", "/api/v1/qr", "Bearer "+adminToken, bytes.NewReader([]byte(`{"text":"cabincare://enrol?code=ABCD-1234"}`)))
		if status != 200 || ctype != "image/png" {
			t.Fatalf("status %d, type %q: %s", status, ctype, raw)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got := img.Bounds().Dx(); got != 320 {
			t.Errorf("width = %d, want 320", got)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, body := range []string{`{"text":""}`, `{"text":"` + string(bytes.Repeat([]byte("x"), 513)) + `"}`} {
			status, ctype, raw := g.Do("POST", "/api/v1/qr", "Bearer "+adminToken, bytes.NewReader([]byte(body)))
			AssertError(t, status, ctype, raw, 400, "invalid")
		}
		status, ctype, raw := g.Do("POST", "/api/v1/qr", "", bytes.NewReader([]byte(`{"text":"x"}`)))
		AssertError(t, status, ctype, raw, 401, "unauthorized")
	})
}
