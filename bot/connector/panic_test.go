package connector

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"mfabot/internal/msfake"
)

// panickingCredential fails the way the nil transport of issue 10 did:
// inside azcore, on the connector's own token goroutine.
type panickingCredential struct{}

func (panickingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	var c *struct{ f func() }
	c.f() // nil pointer dereference
	return azcore.AccessToken{}, nil
}

// TestCredentialPanicIsATokenError: a panic while getting a token ends
// that send with ErrToken (the turn fails and is retried) instead of the
// process, and the next send asks the credential again.
func TestCredentialPanicIsATokenError(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Credential = panickingCredential{} })
	for range 2 {
		_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
		if !errors.Is(err, ErrToken) {
			t.Fatalf("got %v, want ErrToken", err)
		}
	}
	if n := len(e.conn.Requests()); n != 0 {
		t.Fatalf("%d requests sent without a token", n)
	}
}

// TestDefaultTransportIsNotANilClient: with no Transport (what the binary
// passes), the credential uses azcore's default transport. Against a
// server whose certificate the system does not trust that is a clean
// error, not the nil-client panic of issue 10.
func TestDefaultTransportIsNotANilClient(t *testing.T) {
	ts := msfake.NewTokenServer(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testApp, ClientSecret: testSecret})
	var unset *http.Client // cmd/mfabot's appOptions.HTTPClient in the real binary
	cred, err := NewCredential(CredentialOptions{AppID: testApp, Password: testSecret, TenantID: testTenant,
		AuthorityHost: ts.AuthorityHost(), Transport: unset, Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("GetToken with the default transport panicked: %v", v)
		}
	}()
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{DefaultScope}}); err == nil {
		t.Fatal("a token from a server the system does not trust")
	}
}
