package msfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenServer is a fake Entra ID (Azure AD) v2.0 endpoint over TLS, good
// enough for azidentity/MSAL client-credential flows: it serves
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration  (authority metadata)
//	POST /{tenant}/oauth2/v2.0/token                       (client credentials)
//	GET  /common/discovery/instance                         (instance discovery)
//
// Use AuthorityHost() as azure.authority_host and Client() (or
// Client().Transport) as the credential's transport.
type TokenServer struct {
	Server *httptest.Server

	opts TokenServerOptions

	mu        sync.Mutex
	expiresIn int
	failing   int
	issued    map[string]time.Time
	requests  []TokenRequest
	seq       int

	tokenRequests     atomic.Int64
	metadataRequests  atomic.Int64
	discoveryRequests atomic.Int64
}

// TokenServerOptions say what the fake expects; empty fields accept anything.
type TokenServerOptions struct {
	TenantID     string
	ClientID     string
	ClientSecret string
	// Certificate, when set, must have signed the client assertion of a
	// certificate credential.
	Certificate *x509.Certificate
}

// TokenRequest is one token request as the fake saw it (no secrets).
type TokenRequest struct {
	Tenant        string
	GrantType     string
	ClientID      string
	Scope         string
	WithSecret    bool
	WithAssertion bool
}

// NewTokenServer starts the fake over TLS; it is closed when the test ends.
func NewTokenServer(tb testing.TB, o TokenServerOptions) *TokenServer {
	tb.Helper()
	f := &TokenServer{opts: o, expiresIn: 3599, issued: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", f.serveMetadata)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", f.serveToken)
	mux.HandleFunc("GET /common/discovery/instance", f.serveDiscovery)
	f.Server = newServer(tb, true, mux)
	return f
}

// AuthorityHost is the authority host URL (with a trailing slash).
func (f *TokenServer) AuthorityHost() string { return f.Server.URL + "/" }

// Client returns an http.Client that trusts the fake's certificate.
func (f *TokenServer) Client() *http.Client { return clientFor(f.Server) }

// TokenRequests counts POSTs to the token endpoint.
func (f *TokenServer) TokenRequests() int64 { return f.tokenRequests.Load() }

// MetadataRequests counts authority metadata requests.
func (f *TokenServer) MetadataRequests() int64 { return f.metadataRequests.Load() }

// DiscoveryRequests counts instance discovery requests.
func (f *TokenServer) DiscoveryRequests() int64 { return f.discoveryRequests.Load() }

// Requests returns the token requests seen.
func (f *TokenServer) Requests() []TokenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TokenRequest(nil), f.requests...)
}

// SetExpiresIn sets the lifetime (seconds) of tokens issued from now on.
func (f *TokenServer) SetExpiresIn(seconds int) {
	f.mu.Lock()
	f.expiresIn = seconds
	f.mu.Unlock()
}

// SetFailing makes the token endpoint answer status with an Entra error
// body (0 restores normal service).
func (f *TokenServer) SetFailing(status int) {
	f.mu.Lock()
	f.failing = status
	f.mu.Unlock()
}

// Valid reports whether token was issued by the fake and has not expired.
func (f *TokenServer) Valid(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.issued[token]
	return ok && time.Now().Before(exp)
}

// ValidBearer reports whether an Authorization header carries a valid token.
func (f *TokenServer) ValidBearer(authorization string) bool {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	return ok && f.Valid(tok)
}

func (f *TokenServer) serveMetadata(w http.ResponseWriter, r *http.Request) {
	f.metadataRequests.Add(1)
	tenant := r.PathValue("tenant")
	base := f.Server.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"issuer":                                f.Server.URL + "/{tenantid}/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

func (f *TokenServer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	f.discoveryRequests.Add(1)
	host := strings.TrimPrefix(f.Server.URL, "https://")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": f.Server.URL + "/common/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host,
			"preferred_cache":   host,
			"aliases":           []string{host},
		}},
	})
}

func entraError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": desc,
		"error_codes":       []int{7000215},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          "00000000-0000-0000-0000-000000000000",
		"correlation_id":    "00000000-0000-0000-0000-000000000000",
	})
}

func (f *TokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	f.tokenRequests.Add(1)
	if err := r.ParseForm(); err != nil {
		entraError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: malformed body")
		return
	}
	req := TokenRequest{
		Tenant:        r.PathValue("tenant"),
		GrantType:     r.PostForm.Get("grant_type"),
		ClientID:      r.PostForm.Get("client_id"),
		Scope:         r.PostForm.Get("scope"),
		WithSecret:    r.PostForm.Get("client_secret") != "",
		WithAssertion: r.PostForm.Get("client_assertion") != "",
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	failing, expiresIn := f.failing, f.expiresIn
	f.mu.Unlock()
	if failing != 0 {
		entraError(w, failing, "temporarily_unavailable", "AADSTS50000: the fake token endpoint was told to fail")
		return
	}
	if req.GrantType != "client_credentials" {
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: only client_credentials")
		return
	}
	if f.opts.TenantID != "" && req.Tenant != f.opts.TenantID {
		entraError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: tenant not found")
		return
	}
	if f.opts.ClientID != "" && req.ClientID != f.opts.ClientID {
		entraError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: application not found")
		return
	}
	switch {
	case req.WithSecret:
		if f.opts.ClientSecret != "" && r.PostForm.Get("client_secret") != f.opts.ClientSecret {
			entraError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: invalid client secret")
			return
		}
	case req.WithAssertion:
		if err := f.checkAssertion(r.PostForm.Get("client_assertion"), req.ClientID); err != nil {
			entraError(w, http.StatusUnauthorized, "invalid_client", "AADSTS700027: "+err.Error())
			return
		}
	default:
		entraError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000216: no client credential")
		return
	}
	if req.Scope == "" {
		entraError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: no scope")
		return
	}
	f.mu.Lock()
	f.seq++
	tok := fmt.Sprintf("fake-entra-token-%d-%s", f.seq, rand.Text())
	f.issued[tok] = time.Now().Add(time.Duration(expiresIn) * time.Second)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     expiresIn,
		"ext_expires_in": expiresIn,
		"access_token":   tok,
	})
}

func (f *TokenServer) checkAssertion(assertion, clientID string) error {
	var claims jwt.MapClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "PS256"}))
	_, err := p.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		if f.opts.Certificate == nil {
			// Without a configured certificate the signature is not checked.
			return nil, errNoCert
		}
		return f.opts.Certificate.PublicKey, nil
	})
	if err != nil && !(f.opts.Certificate == nil && errors.Is(err, errNoCert)) {
		return fmt.Errorf("client assertion: %w", err)
	}
	if sub, _ := claims["sub"].(string); sub != clientID {
		return fmt.Errorf("client assertion: sub is not the client id")
	}
	return nil
}

type fakeError string

func (e fakeError) Error() string { return string(e) }

const errNoCert = fakeError("no certificate configured")

// PublicKeyPEM encodes an RSA public key as a PEM "PUBLIC KEY" block.
func PublicKeyPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("msfake: marshal public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// WriteClientCertificate creates a self-signed client certificate with its
// private key, writes both as one PEM file in dir and returns the path and
// the certificate (pass it as TokenServerOptions.Certificate).
func WriteClientCertificate(tb testing.TB, dir string) (string, *x509.Certificate) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "mfabot test client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(tb, key)})
	path := filepath.Join(dir, "client-cert.pem")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, cert
}

func mustPKCS8(tb testing.TB, key *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}
