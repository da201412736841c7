// Package msfake holds test fakes of Microsoft's cloud that speak the real
// wire formats over real HTTP (httptest, TLS or plain): the Bot Framework's
// OpenID metadata and signing keys with a token minter (OpenID), an Entra
// ID token endpoint good enough for azidentity/MSAL (TokenServer) and a
// Bot Framework Connector that records what the bot sends (Connector).
// It also has a manual Clock. Everybody's tests may import it.
package msfake

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Clock is a manual clock for tests: Now returns the set time, Advance and
// Sleep move it forward. Sleep never blocks (it records the duration and
// advances), so time-dependent code runs without real waiting. It is safe
// for concurrent use.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

// NewClock returns a clock set to t (time.Now() when t is zero).
func NewClock(t time.Time) *Clock {
	if t.IsZero() {
		t = time.Now()
	}
	return &Clock{t: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Sleep records d and advances the clock by it, unless ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// Sleeps returns the durations passed to Sleep so far.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// newServer starts h over TLS or plain HTTP and closes it at the end of
// the test.
func newServer(tb testing.TB, useTLS bool, h http.Handler) *httptest.Server {
	tb.Helper()
	var s *httptest.Server
	if useTLS {
		// HTTP/2 over TLS, as Microsoft's front doors speak it (a client
		// that offers only HTTP/1.1 still gets that).
		s = httptest.NewUnstartedServer(h)
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s = httptest.NewServer(h)
	}
	tb.Cleanup(s.Close)
	return s
}

// clientFor returns an http.Client that trusts s (TLS or not), with a
// transport of its own so tests do not share connection pools.
func clientFor(s *httptest.Server) *http.Client {
	if s.TLS == nil {
		return &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	}
	return s.Client()
}

// TrustingClient returns an http.Client that trusts the certificates of
// all the given TLS fakes' servers (they each have their own).
func TrustingClient(servers ...*httptest.Server) *http.Client {
	pool := x509.NewCertPool()
	for _, s := range servers {
		if s != nil && s.TLS != nil {
			pool.AddCert(s.Certificate())
		}
	}
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		Timeout:   30 * time.Second,
	}
}

// WriteCertificatePEM writes the certificates of TLS test servers to
// dir/msfake-ca.pem and returns the path: a child process (the mfabot
// binary in an end-to-end test) trusts the fakes with SSL_CERT_FILE set to
// it.
func WriteCertificatePEM(tb testing.TB, dir string, servers ...*httptest.Server) string {
	tb.Helper()
	var b []byte
	for _, s := range servers {
		if s != nil && s.TLS != nil {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})...)
		}
	}
	path := filepath.Join(dir, "msfake-ca.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
