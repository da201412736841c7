package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mfabot/internal/msfake"
)

const (
	appID      = "00000000-0000-0000-0000-00000000b07a"
	serviceURL = "https://smba.trafficmanager.net/emea/"
	channel    = "msteams"
)

var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

type fixture struct {
	op    *msfake.OpenID
	clock *msfake.Clock
	v     *Validator
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := msfake.NewClock(t0)
	op := msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true})
	op.Now = clock.Now
	v := New(Config{AppID: appID, MetadataURL: op.MetadataURL(), HTTPClient: op.Client(), Now: clock.Now, Logger: quiet})
	return &fixture{op: op, clock: clock, v: v}
}

func (f *fixture) sign(opts ...msfake.TokenOption) string {
	return f.op.SignActivityToken(appID, serviceURL, opts...)
}

func (f *fixture) validate(t *testing.T, tok string) (*Identity, error) {
	t.Helper()
	return f.v.Validate(context.Background(), "Bearer "+tok, serviceURL, channel)
}

// rawToken builds a compact JWS from raw header and claims JSON, signed
// (RS256) with key.
func rawToken(t testing.TB, header, claims string, key *rsa.PrivateKey) string {
	t.Helper()
	ss := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	sig, err := jwt.SigningMethodRS256.Sign(ss, key)
	if err != nil {
		t.Fatal(err)
	}
	return ss + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestAttackTable(t *testing.T) {
	f := newFixture(t)
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key1 := f.op.Key("key-1").Private
	validClaims := func(extra string) string {
		return `{"iss":"https://api.botframework.com","aud":"` + appID + `","serviceurl":"` + serviceURL +
			`","nbf":` + jsonInt(f.clock.Now().Add(-5*time.Minute).Unix()) + `,"exp":` + jsonInt(f.clock.Now().Add(time.Hour).Unix()) + extra + `}`
	}

	type row struct {
		name       string
		header     string // full Authorization header; "" = build from token
		token      func() string
		serviceURL string // default serviceURL
		channelID  string // default msteams
		status     int    // 0 = must be accepted
		reason     string
	}
	rows := []row{
		// Negative rows from the issue.
		{name: "no header", header: " ", status: 401, reason: ReasonMissingHeader},
		{name: "empty header", header: "", status: 401, reason: ReasonMissingHeader},
		{name: "alg none", token: func() string { return f.sign(msfake.WithAlg("none")) }, status: 401, reason: ReasonBadAlg},
		{name: "HS256 signed with the public key", token: func() string { return f.sign(msfake.WithAlg("HS256")) }, status: 401, reason: ReasonBadAlg},
		{name: "HS256 labelled RS256", token: func() string {
			return f.sign(msfake.WithAlg("HS256"), msfake.WithHeader("alg", "RS256"))
		}, status: 401, reason: ReasonBadSignature},
		{name: "wrong issuer", token: func() string { return f.sign(msfake.WithClaim("iss", "https://sts.windows.net/evil/")) }, status: 401, reason: ReasonIssuer},
		{name: "issuer with trailing slash", token: func() string { return f.sign(msfake.WithClaim("iss", "https://api.botframework.com/")) }, status: 401, reason: ReasonIssuer},
		{name: "wrong audience", token: func() string { return f.sign(msfake.WithClaim("aud", "another-app")) }, status: 401, reason: ReasonAudience},
		{name: "aud array without the app id", token: func() string { return f.sign(msfake.WithClaim("aud", []string{"a", "b"})) }, status: 401, reason: ReasonAudience},
		{name: "expired beyond leeway", token: func() string { return f.sign(msfake.WithLifetime(f.clock.Now(), -6*time.Minute)) }, status: 401, reason: ReasonExpired},
		{name: "missing exp", token: func() string { return f.sign(msfake.WithClaim("exp", nil)) }, status: 401, reason: ReasonNoExp},
		{name: "serviceurl mismatch", token: func() string { return f.sign(msfake.WithClaim("serviceurl", "https://evil.example/emea/")) }, status: 401, reason: ReasonServiceURL},
		{name: "serviceurl missing", token: func() string { return f.sign(msfake.WithClaim("serviceurl", nil)) }, status: 401, reason: ReasonServiceURL},
		{name: "serviceurl prefix only", token: func() string { return f.sign() }, serviceURL: "https://smba.trafficmanager.net/emea/x", status: 401, reason: ReasonServiceURL},
		{name: "endorsement mismatch", token: func() string { return f.sign() }, channelID: "webchat", status: 403, reason: ReasonEndorsement},
		{name: "endorsement with empty channel", token: func() string { return f.sign() }, channelID: "-", status: 403, reason: ReasonEndorsement},
		{name: "unknown kid stays unknown after refetch", token: func() string {
			f.clock.Advance(DefaultMinRefetch + time.Second) // let the kid trigger a refetch
			return f.sign(msfake.WithKID("ghost"))
		}, status: 401, reason: ReasonUnknownKID},
		{name: "garbage base64", header: "Bearer %%%.@@@.!!!", status: 401, reason: ReasonMalformed},
		// More of the same family.
		{name: "not bearer", header: "Basic dXNlcjpwYXNz", status: 401, reason: ReasonMalformed},
		{name: "bearer without token", header: "Bearer ", status: 401, reason: ReasonMalformed},
		{name: "two segments", header: "Bearer abc.def", status: 401, reason: ReasonMalformed},
		{name: "header not JSON", token: func() string { return "bm90IGpzb24." + strings.SplitN(f.sign(), ".", 2)[1] }, status: 401, reason: ReasonMalformed},
		{name: "oversized header", header: "Bearer " + strings.Repeat("a", MaxTokenBytes+10), status: 401, reason: ReasonMalformed},
		{name: "signed by a foreign key with a known kid", token: func() string { return f.sign(msfake.WithSigningKey(foreign)) }, status: 401, reason: ReasonBadSignature},
		{name: "no kid", token: func() string { return f.sign(msfake.WithHeader("kid", nil)) }, status: 401, reason: ReasonUnknownKID},
		{name: "kid of odd type", token: func() string { return f.sign(msfake.WithHeader("kid", 42)) }, status: 401, reason: ReasonUnknownKID},
		{name: "alg of odd type", token: func() string { return f.sign(msfake.WithHeader("alg", []int{1})) }, status: 401, reason: ReasonBadAlg},
		{name: "ES256 header", token: func() string { return f.sign(msfake.WithHeader("alg", "ES256")) }, status: 401, reason: ReasonBadAlg},
		{name: "PS256 header", token: func() string { return f.sign(msfake.WithHeader("alg", "PS256")) }, status: 401, reason: ReasonBadAlg},
		{name: "exp as string", token: func() string { return f.sign(msfake.WithClaim("exp", "tomorrow")) }, status: 401, reason: ReasonNoExp},
		{name: "exp as object", token: func() string { return f.sign(msfake.WithClaim("exp", map[string]int{"a": 1})) }, status: 401, reason: ReasonNoExp},
		{name: "aud as number", token: func() string { return f.sign(msfake.WithClaim("aud", 12)) }, status: 401, reason: ReasonAudience},
		{name: "aud as object", token: func() string { return f.sign(msfake.WithClaim("aud", map[string]string{"x": appID})) }, status: 401, reason: ReasonAudience},
		{name: "aud array of odd types", token: func() string { return f.sign(msfake.WithClaim("aud", []any{1, nil, []string{appID}})) }, status: 401, reason: ReasonAudience},
		{name: "aud missing", token: func() string { return f.sign(msfake.WithClaim("aud", nil)) }, status: 401, reason: ReasonAudience},
		{name: "iss as array", token: func() string { return f.sign(msfake.WithClaim("iss", []string{"https://api.botframework.com"})) }, status: 401, reason: ReasonIssuer},
		{name: "serviceurl as number", token: func() string { return f.sign(msfake.WithClaim("serviceurl", 1)) }, status: 401, reason: ReasonServiceURL},
		{name: "nbf beyond leeway", token: func() string { return f.sign(msfake.WithClaim("nbf", f.clock.Now().Add(6*time.Minute).Unix())) }, status: 401, reason: ReasonNotYetValid},
		{name: "nbf of odd type", token: func() string { return f.sign(msfake.WithClaim("nbf", "now")) }, status: 401, reason: ReasonNotYetValid},
		{name: "claims null", token: func() string { return rawToken(t, `{"alg":"RS256","kid":"key-1"}`, `null`, key1) }, status: 401, reason: ReasonMalformed},
		{name: "claims array", token: func() string { return rawToken(t, `{"alg":"RS256","kid":"key-1"}`, `[1,2]`, key1) }, status: 401, reason: ReasonMalformed},
		{name: "claims with trailing data", token: func() string {
			return rawToken(t, `{"alg":"RS256","kid":"key-1"}`, validClaims("")+`{}`, key1)
		}, status: 401, reason: ReasonMalformed},
		{name: "huge exp number", token: func() string {
			return rawToken(t, `{"alg":"RS256","kid":"key-1"}`, strings.Replace(validClaims(""), `"exp":`, `"exp":1e400,"x":`, 1), key1)
		}, status: 401, reason: ReasonNoExp},

		// Positive rows.
		{name: "valid", token: func() string { return f.sign() }},
		{name: "clock skew within leeway (expired 4 min ago)", token: func() string { return f.sign(msfake.WithLifetime(f.clock.Now(), -4*time.Minute)) }},
		{name: "clock skew within leeway (nbf in 4 min)", token: func() string { return f.sign(msfake.WithClaim("nbf", f.clock.Now().Add(4*time.Minute).Unix())) }},
		{name: "aud array containing the app id", token: func() string { return f.sign(msfake.WithClaim("aud", []string{"other", appID})) }},
		{name: "serviceurl differs in case and trailing slash", token: func() string {
			return f.sign(msfake.WithClaim("serviceurl", "HTTPS://SMBA.trafficmanager.net/EMEA"))
		}},
		{name: "RS384", token: func() string { return f.sign(msfake.WithAlg("RS384")) }},
		{name: "RS512", token: func() string { return f.sign(msfake.WithAlg("RS512")) }},
		{name: "lower-case bearer scheme", header: "", token: nil, status: -1},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.status == -1 {
				h := "bearer " + f.sign()
				if _, err := f.v.Validate(context.Background(), h, serviceURL, channel); err != nil {
					t.Fatalf("lower-case scheme rejected: %v", err)
				}
				return
			}
			h := r.header
			var tok string
			if r.token != nil {
				tok = r.token()
				h = "Bearer " + tok
			}
			su := r.serviceURL
			if su == "" {
				su = serviceURL
			}
			ch := r.channelID
			switch ch {
			case "":
				ch = channel
			case "-":
				ch = ""
			}
			id, err := f.v.Validate(context.Background(), h, su, ch)
			if r.status == 0 {
				if err != nil {
					t.Fatalf("rejected a good token: %v", err)
				}
				if id.AppID != appID || !SameServiceURL(id.ServiceURL, serviceURL) || id.KeyID != "key-1" {
					t.Fatalf("identity = %+v", id)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %d %s", r.status, r.reason)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v is not *auth.Error", err, err)
			}
			if ae.Status != r.status || ae.Reason != r.reason {
				t.Fatalf("got %d %s, want %d %s", ae.Status, ae.Reason, r.status, r.reason)
			}
			if id != nil {
				t.Fatalf("identity returned with an error")
			}
			msg := err.Error()
			if tok != "" && (strings.Contains(msg, tok[:16]) || strings.Contains(msg, "evil") || strings.Contains(msg, "botframework")) {
				t.Fatalf("error leaks token contents: %q", msg)
			}
		})
	}
	// The whole table needed one fetch for the keys plus one refetch for the
	// unknown kid (the no-kid rows never reach the key cache).
	if got := f.op.JWKSFetches(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2", got)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestEmptyAppIDRejectsEverything(t *testing.T) {
	op := msfake.NewOpenID(t, msfake.OpenIDOptions{})
	v := New(Config{MetadataURL: op.MetadataURL(), HTTPClient: op.Client()})
	for _, h := range []string{"", "x", "Bearer " + op.SignActivityToken("", serviceURL), "Bearer " + op.SignActivityToken(appID, serviceURL)} {
		_, err := v.Validate(context.Background(), h, serviceURL, channel)
		var ae *Error
		if !errors.As(err, &ae) || ae.Status != 401 || ae.Reason != ReasonConfig {
			t.Fatalf("header %.10q: got %v, want 401 config", h, err)
		}
	}
	if op.MetadataFetches() != 0 {
		t.Fatal("metadata fetched without an App ID")
	}
}

func TestKeyRotationAcceptedAfterOneRefetch(t *testing.T) {
	f := newFixture(t)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatal(err)
	}
	if f.op.MetadataFetches() != 1 || f.op.JWKSFetches() != 1 {
		t.Fatalf("fetches %d/%d after the first token, want 1/1", f.op.MetadataFetches(), f.op.JWKSFetches())
	}
	// Many tokens with the cached key: no more fetches.
	for i := 0; i < 20; i++ {
		if _, err := f.validate(t, f.sign()); err != nil {
			t.Fatal(err)
		}
	}
	// Rotate: a new key appears, the old one goes.
	f.clock.Advance(10 * time.Minute)
	f.op.AddKey("key-2", "msteams")
	f.op.RemoveKey("key-1")
	id, err := f.validate(t, f.sign(msfake.WithKID("key-2")))
	if err != nil {
		t.Fatalf("rotated key rejected: %v", err)
	}
	if id.KeyID != "key-2" {
		t.Fatalf("kid = %q", id.KeyID)
	}
	if f.op.JWKSFetches() != 2 {
		t.Fatalf("JWKS fetched %d times, want exactly 2 (one refetch)", f.op.JWKSFetches())
	}
	if _, err := f.validate(t, f.sign(msfake.WithKID("key-2"))); err != nil || f.op.JWKSFetches() != 2 {
		t.Fatalf("second token with the new key: err %v, fetches %d", err, f.op.JWKSFetches())
	}
}

func TestRefetchRateLimitedUnderUnknownKidFlood(t *testing.T) {
	f := newFixture(t)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	// A flood of tokens with unknown kids, over 40 seconds.
	for i := 0; i < 100; i++ {
		_, err := f.validate(t, f.sign(msfake.WithKID("ghost"), msfake.WithSigningKey(f.op.Key("key-1").Private)))
		var ae *Error
		if !errors.As(err, &ae) || ae.Reason != ReasonUnknownKID {
			t.Fatalf("flood token %d: %v", i, err)
		}
		if i%10 == 9 {
			f.clock.Advance(4 * time.Second)
		}
	}
	if got := f.op.JWKSFetches(); got != 2 {
		t.Fatalf("JWKS fetched %d times during the flood, want 2 (initial + one refetch)", got)
	}
	// Good tokens keep working during the flood, without fetches.
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatal(err)
	}
	// A new key within the minute is not seen yet...
	f.op.AddKey("key-3", "msteams")
	if _, err := f.validate(t, f.sign(msfake.WithKID("key-3"))); err == nil {
		t.Fatal("new key accepted without a refetch")
	}
	// ...but once MinRefetch has passed since the last fetch, it is.
	f.clock.Advance(time.Minute)
	if _, err := f.validate(t, f.sign(msfake.WithKID("key-3"))); err != nil {
		t.Fatalf("new key after MinRefetch: %v", err)
	}
	if got := f.op.JWKSFetches(); got != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", got)
	}
}

func TestConcurrentValidationSharesOneFetch(t *testing.T) {
	f := newFixture(t)
	tok := f.sign()
	ghost := f.sign(msfake.WithKID("ghost"))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := f.v.Validate(context.Background(), "Bearer "+tok, serviceURL, channel)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := f.v.Validate(context.Background(), "Bearer "+ghost, serviceURL, channel)
			if err == nil {
				err = errors.New("ghost accepted")
			} else {
				err = nil
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// All share the first fetch; the clock does not move, so no refetch.
	if got := f.op.JWKSFetches(); got != 1 {
		t.Fatalf("JWKS fetched %d times by 64 concurrent requests, want 1", got)
	}
}

func TestCacheRefreshAndStaleKeysWhenMetadataDown(t *testing.T) {
	f := newFixture(t)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatal(err)
	}
	// After the cache TTL, a token triggers a refresh.
	f.clock.Advance(DefaultCacheTTL + time.Minute)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatal(err)
	}
	if f.op.JWKSFetches() != 2 {
		t.Fatalf("no refresh after the TTL: %d fetches", f.op.JWKSFetches())
	}
	// Metadata down after another TTL: the known key keeps working.
	f.clock.Advance(DefaultCacheTTL + time.Minute)
	f.op.SetFailing(500)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatalf("stale key not used while metadata is down: %v", err)
	}
	if f.op.MetadataFetches() != 3 {
		t.Fatalf("metadata fetches = %d, want 3", f.op.MetadataFetches())
	}
	// Unknown kid with metadata down: 401 unknown_kid.
	f.clock.Advance(2 * time.Minute)
	_, err := f.validate(t, f.sign(msfake.WithKID("ghost")))
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Reason != ReasonUnknownKID {
		t.Fatalf("got %v", err)
	}
}

func TestMetadataUnreachableAtStart(t *testing.T) {
	f := newFixture(t)
	f.op.SetFailing(503)
	_, err := f.validate(t, f.sign())
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Reason != ReasonMetadata {
		t.Fatalf("got %v, want 401 metadata", err)
	}
	// Within MinRefetch: no second fetch.
	_, _ = f.validate(t, f.sign())
	if f.op.MetadataFetches() != 1 {
		t.Fatalf("metadata fetched %d times within MinRefetch", f.op.MetadataFetches())
	}
	f.op.SetFailing(0)
	f.clock.Advance(time.Minute)
	if _, err := f.validate(t, f.sign()); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestUnendorsedKeyAcceptsAnyChannel(t *testing.T) {
	f := newFixture(t)
	f.op.AddKey("open-key")
	if _, err := f.v.Validate(context.Background(), "Bearer "+f.sign(msfake.WithKID("open-key")), serviceURL, "webchat"); err != nil {
		t.Fatal(err)
	}
}

func TestCanceledContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.Validate(ctx, "Bearer "+f.sign(), serviceURL, channel)
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("got %v", err)
	}
}

func TestSameServiceURL(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"https://a.example/emea/", "https://a.example/emea", true},
		{"https://A.example/EMEA", "https://a.example/emea/", true},
		{"https://a.example/emea//", "https://a.example/emea", false},
		{"https://a.example/emea", "https://a.example/emea/x", false},
		{"", "", true},
	}
	for _, c := range cases {
		if got := SameServiceURL(c.a, c.b); got != c.want {
			t.Errorf("SameServiceURL(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// TestVerifiedTokenReuse: the Bot Framework sends one token with many
// activities, and its signature is checked once; what depends on the
// clock, the activity and the key set is still checked on every use.
func TestVerifiedTokenReuse(t *testing.T) {
	f := newFixture(t)
	tok := f.sign()
	for i := 0; i < 3; i++ {
		if _, err := f.validate(t, tok); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	reason := func(err error) string {
		var ae *Error
		if errors.As(err, &ae) {
			return ae.Reason
		}
		return ""
	}
	if _, err := f.v.Validate(context.Background(), "Bearer "+tok, "https://evil.example.com/", channel); reason(err) != ReasonServiceURL {
		t.Errorf("a verified token for another serviceUrl: %v, want %s", err, ReasonServiceURL)
	}
	if _, err := f.v.Validate(context.Background(), "Bearer "+tok, serviceURL, "webchat"); reason(err) != ReasonEndorsement {
		t.Errorf("a verified token on a channel its key is not endorsed for: %v, want %s", err, ReasonEndorsement)
	}
	forged := tok[:len(tok)-4] + "AAAA"
	if _, err := f.validate(t, forged); reason(err) != ReasonBadSignature {
		t.Errorf("the verified token with its signature changed: %v, want %s", err, ReasonBadSignature)
	}

	// The key that signed it leaves the key set: the token goes with it.
	f.clock.Advance(10 * time.Minute)
	f.op.AddKey("key-2", "msteams")
	f.op.RemoveKey("key-1")
	if _, err := f.validate(t, f.sign(msfake.WithKID("key-2"))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.validate(t, tok); reason(err) != ReasonUnknownKID {
		t.Errorf("a verified token whose key was removed: %v, want %s", err, ReasonUnknownKID)
	}

	// And a verified token still expires.
	tok2 := f.sign(msfake.WithKID("key-2"))
	if _, err := f.validate(t, tok2); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if _, err := f.validate(t, tok2); reason(err) != ReasonExpired {
		t.Errorf("a verified token after its exp: %v, want %s", err, ReasonExpired)
	}
}

// BenchmarkValidate: a new token per activity (every signature checked)
// against the one token the Bot Framework reuses.
func BenchmarkValidate(b *testing.B) {
	f := newFixture(b)
	b.Run("new token each time", func(b *testing.B) {
		toks := make([]string, 64)
		for i := range toks {
			toks[i] = f.sign(msfake.WithClaim("jti", i))
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			f.v.mu.Lock()
			clear(f.v.tokens)
			f.v.mu.Unlock()
			if _, err := f.v.Validate(context.Background(), "Bearer "+toks[i%len(toks)], serviceURL, channel); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("the same token", func(b *testing.B) {
		tok := f.sign()
		for i := 0; i < b.N; i++ {
			if _, err := f.v.Validate(context.Background(), "Bearer "+tok, serviceURL, channel); err != nil {
				b.Fatal(err)
			}
		}
	})
}
