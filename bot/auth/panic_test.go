package auth

import (
	"context"
	"net/http"
	"testing"

	"mfabot/internal/msfake"
)

type panickingTransport struct{}

func (panickingTransport) RoundTrip(*http.Request) (*http.Response, error) { panic("transport bug") }

// TestKeyFetchPanicRefusesTheRequest: a panic while fetching the signing
// keys (on the validator's own fetch goroutine) refuses the request as a
// failed fetch would, instead of ending the process.
func TestKeyFetchPanicRefusesTheRequest(t *testing.T) {
	op := msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true})
	v := New(Config{AppID: appID, MetadataURL: op.MetadataURL(), HTTPClient: &http.Client{Transport: panickingTransport{}}, Logger: quiet})
	_, err := v.Validate(context.Background(), "Bearer "+op.SignActivityToken(appID, serviceURL), serviceURL, channel)
	if err == nil {
		t.Fatal("a token was accepted without keys")
	}
	if e, ok := err.(*Error); !ok || e.Status != http.StatusUnauthorized {
		t.Fatalf("got %#v, want a 401 *Error", err)
	}
}
