package msfake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BotFrameworkIssuer is the issuer of channel -> bot tokens.
const BotFrameworkIssuer = "https://api.botframework.com"

// OpenID is a fake of the Bot Framework's OpenID metadata
// (/v1/.well-known/openidconfiguration) and signing keys
// (/v1/.well-known/keys), with a token minter.
type OpenID struct {
	Server *httptest.Server
	// Now is the clock used for minted tokens' iat/nbf/exp; default time.Now.
	Now func() time.Time

	mu      sync.Mutex
	keys    map[string]*Key
	order   []string
	failing int // HTTP status to answer with, 0 = serve normally

	metadataFetches atomic.Int64
	jwksFetches     atomic.Int64
}

// Key is a signing key of the fake.
type Key struct {
	KID          string
	Private      *rsa.PrivateKey
	Endorsements []string
}

// OpenIDOptions configure NewOpenID.
type OpenIDOptions struct {
	// TLS serves https (the real endpoint is https); default plain http.
	TLS bool
	// NoKey starts without a signing key; by default one key "key-1"
	// endorsed for "msteams" exists.
	NoKey bool
}

// NewOpenID starts the fake; it is closed when the test ends.
func NewOpenID(tb testing.TB, o OpenIDOptions) *OpenID {
	tb.Helper()
	f := &OpenID{keys: map[string]*Key{}, Now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", f.serveMetadata)
	mux.HandleFunc("GET /v1/.well-known/keys", f.serveKeys)
	f.Server = newServer(tb, o.TLS, mux)
	if !o.NoKey {
		f.AddKey("key-1", "msteams")
	}
	return f
}

// MetadataURL is the URL of the OpenID metadata document.
func (f *OpenID) MetadataURL() string { return f.Server.URL + "/v1/.well-known/openidconfiguration" }

// JWKSURL is the URL of the key set.
func (f *OpenID) JWKSURL() string { return f.Server.URL + "/v1/.well-known/keys" }

// Client returns an http.Client that can reach the fake (trusting its TLS
// certificate if it serves TLS).
func (f *OpenID) Client() *http.Client { return clientFor(f.Server) }

// MetadataFetches is how often the metadata document was served.
func (f *OpenID) MetadataFetches() int64 { return f.metadataFetches.Load() }

// JWKSFetches is how often the key set was served.
func (f *OpenID) JWKSFetches() int64 { return f.jwksFetches.Load() }

// SetFailing makes both documents answer status (0 restores normal service).
func (f *OpenID) SetFailing(status int) {
	f.mu.Lock()
	f.failing = status
	f.mu.Unlock()
}

// AddKey generates a 2048-bit RSA key with the given kid and endorsements
// (channel ids; none means "not restricted") and publishes it. Tokens are
// signed with the most recently added key unless WithKID says otherwise.
func (f *OpenID) AddKey(kid string, endorsements ...string) *Key {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("msfake: generate RSA key: " + err.Error())
	}
	k := &Key{KID: kid, Private: pk, Endorsements: endorsements}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[kid]; !ok {
		f.order = append(f.order, kid)
	}
	f.keys[kid] = k
	return k
}

// RemoveKey unpublishes a key (tokens can still be minted with it).
func (f *OpenID) RemoveKey(kid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, kid)
}

// SetEndorsements replaces the endorsements published for kid.
func (f *OpenID) SetEndorsements(kid string, endorsements ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.keys[kid]; ok {
		k.Endorsements = endorsements
	}
}

// Key returns the key with kid (also a removed one's last state is gone;
// nil if unknown).
func (f *OpenID) Key(kid string) *Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[kid]
}

func (f *OpenID) failStatus() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failing
}

func (f *OpenID) serveMetadata(w http.ResponseWriter, r *http.Request) {
	f.metadataFetches.Add(1)
	if st := f.failStatus(); st != 0 {
		http.Error(w, "unavailable", st)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                BotFrameworkIssuer,
		"authorization_endpoint":                "https://invalid.botframework.com",
		"jwks_uri":                              f.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func (f *OpenID) serveKeys(w http.ResponseWriter, r *http.Request) {
	f.jwksFetches.Add(1)
	if st := f.failStatus(); st != 0 {
		http.Error(w, "unavailable", st)
		return
	}
	f.mu.Lock()
	kids := make([]string, 0, len(f.keys))
	for kid := range f.keys {
		kids = append(kids, kid)
	}
	sort.Strings(kids)
	keys := make([]map[string]any, 0, len(kids))
	for _, kid := range kids {
		k := f.keys[kid]
		endorsements := k.Endorsements
		if endorsements == nil {
			endorsements = []string{}
		}
		keys = append(keys, map[string]any{
			"kty":          "RSA",
			"use":          "sig",
			"kid":          k.KID,
			"n":            base64.RawURLEncoding.EncodeToString(k.Private.N.Bytes()),
			"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Private.E)).Bytes()),
			"endorsements": endorsements,
		})
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// TokenOption changes a minted token.
type TokenOption func(*tokenSpec)

type tokenSpec struct {
	kid     string
	alg     string
	claims  map[string]any
	header  map[string]any
	signKey *rsa.PrivateKey
}

// WithClaim sets a claim (any JSON value, also odd types); a nil value
// removes the claim (e.g. WithClaim("exp", nil) for a token without exp).
func WithClaim(name string, value any) TokenOption {
	return func(s *tokenSpec) { s.claims[name] = value }
}

// WithKID names the signing key (also an unpublished one, for unknown-kid
// tests: the token is then signed with a fresh key nobody knows).
func WithKID(kid string) TokenOption { return func(s *tokenSpec) { s.kid = kid } }

// WithAlg sets the algorithm: RS256 (default), RS384, RS512, "none" (no
// signature) or HS256 (HMAC keyed with the signing key's public key in PEM
// form, the classic key-confusion attack).
func WithAlg(alg string) TokenOption { return func(s *tokenSpec) { s.alg = alg } }

// WithHeader sets a JOSE header field (nil removes it).
func WithHeader(name string, value any) TokenOption {
	return func(s *tokenSpec) { s.header[name] = value }
}

// WithSigningKey signs with k while keeping the kid: a bad signature.
func WithSigningKey(k *rsa.PrivateKey) TokenOption { return func(s *tokenSpec) { s.signKey = k } }

// WithLifetime sets exp to now+d and nbf to now-5m (d may be negative).
func WithLifetime(now time.Time, d time.Duration) TokenOption {
	return func(s *tokenSpec) {
		s.claims["exp"] = now.Add(d).Unix()
		s.claims["nbf"] = now.Add(-5 * time.Minute).Unix()
		s.claims["iat"] = now.Add(-5 * time.Minute).Unix()
	}
}

// SignActivityToken mints a channel -> bot token as the Bot Framework
// does: iss https://api.botframework.com, aud appID, serviceurl, nbf/iat
// 5 minutes ago, exp in one hour (per f.Now), kid of the newest key.
// Options override any of it, which is how tests craft bad tokens.
func (f *OpenID) SignActivityToken(appID, serviceURL string, opts ...TokenOption) string {
	now := f.Now()
	s := &tokenSpec{
		alg: "RS256",
		claims: map[string]any{
			"iss":        BotFrameworkIssuer,
			"aud":        appID,
			"serviceurl": serviceURL,
			"nbf":        now.Add(-5 * time.Minute).Unix(),
			"iat":        now.Add(-5 * time.Minute).Unix(),
			"exp":        now.Add(time.Hour).Unix(),
		},
		header: map[string]any{},
	}
	f.mu.Lock()
	for i := len(f.order) - 1; i >= 0; i-- {
		if _, ok := f.keys[f.order[i]]; ok {
			s.kid = f.order[i]
			break
		}
	}
	f.mu.Unlock()
	for _, o := range opts {
		o(s)
	}
	f.mu.Lock()
	k := f.keys[s.kid]
	f.mu.Unlock()
	var priv *rsa.PrivateKey
	switch {
	case s.signKey != nil:
		priv = s.signKey
	case k != nil:
		priv = k.Private
	default:
		pk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("msfake: generate RSA key: " + err.Error())
		}
		priv = pk
	}
	claims := jwt.MapClaims{}
	for n, v := range s.claims {
		if v != nil {
			claims[n] = v
		}
	}
	var method jwt.SigningMethod
	var key any
	switch s.alg {
	case "RS384":
		method, key = jwt.SigningMethodRS384, priv
	case "RS512":
		method, key = jwt.SigningMethodRS512, priv
	case "none":
		method, key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	case "HS256":
		method, key = jwt.SigningMethodHS256, PublicKeyPEM(&priv.PublicKey)
	default:
		method, key = jwt.SigningMethodRS256, priv
	}
	t := jwt.NewWithClaims(method, claims)
	if s.kid != "" {
		t.Header["kid"] = s.kid
	}
	for n, v := range s.header {
		if v == nil {
			delete(t.Header, n)
		} else {
			t.Header[n] = v
		}
	}
	out, err := t.SignedString(key)
	if err != nil {
		panic("msfake: sign token: " + err.Error())
	}
	return out
}
