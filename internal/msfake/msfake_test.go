package msfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func getJSON(t *testing.T, c *http.Client, u string, v any) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestOpenIDServesKeysAndRotates(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		f := NewOpenID(t, OpenIDOptions{TLS: useTLS})
		c := f.Client()
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		getJSON(t, c, f.MetadataURL(), &md)
		if md.JWKSURI != f.JWKSURL() || md.Issuer != BotFrameworkIssuer {
			t.Fatalf("metadata %+v", md)
		}
		if strings.HasPrefix(md.JWKSURI, "https://") != useTLS {
			t.Fatalf("jwks_uri %q with TLS=%v", md.JWKSURI, useTLS)
		}
		type jwk struct {
			Kid, N, E    string
			Endorsements []string
		}
		var set struct{ Keys []jwk }
		getJSON(t, c, f.JWKSURL(), &set)
		if len(set.Keys) != 1 || set.Keys[0].Kid != "key-1" || len(set.Keys[0].Endorsements) != 1 || set.Keys[0].Endorsements[0] != "msteams" {
			t.Fatalf("keys %+v", set.Keys)
		}
		n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
		if new(big.Int).SetBytes(n).Cmp(f.Key("key-1").Private.N) != 0 {
			t.Fatal("published modulus differs")
		}
		f.AddKey("key-2")
		f.RemoveKey("key-1")
		getJSON(t, c, f.JWKSURL(), &set)
		if len(set.Keys) != 1 || set.Keys[0].Kid != "key-2" || set.Keys[0].Endorsements == nil {
			t.Fatalf("after rotation %+v", set.Keys)
		}
		f.SetFailing(503)
		if st := getJSON(t, c, f.MetadataURL(), nil); st != 503 {
			t.Fatalf("failing status %d", st)
		}
		if f.MetadataFetches() != 2 || f.JWKSFetches() != 2 {
			t.Fatalf("counters %d %d", f.MetadataFetches(), f.JWKSFetches())
		}
	}
}

func TestSignActivityToken(t *testing.T) {
	f := NewOpenID(t, OpenIDOptions{})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { return now }
	pub := &f.Key("key-1").Private.PublicKey

	tok := f.SignActivityToken("app", "https://svc/")
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != "key-1" || parsed.Header["alg"] != "RS256" {
		t.Fatalf("header %v", parsed.Header)
	}
	if claims["iss"] != BotFrameworkIssuer || claims["aud"] != "app" || claims["serviceurl"] != "https://svc/" ||
		claims["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Fatalf("claims %v", claims)
	}

	// Crafted bad tokens.
	none := f.SignActivityToken("app", "u", WithAlg("none"), WithClaim("exp", nil))
	if parts := strings.Split(none, "."); len(parts) != 3 || parts[2] != "" {
		t.Fatalf("alg none token %q", none)
	}
	hs := f.SignActivityToken("app", "u", WithAlg("HS256"))
	if _, err := jwt.Parse(hs, func(*jwt.Token) (any, error) { return PublicKeyPEM(pub), nil }, jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
		t.Fatalf("HS256 token does not verify with the public key PEM: %v", err)
	}
	ghost := f.SignActivityToken("app", "u", WithKID("ghost"))
	if _, err := jwt.Parse(ghost, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithTimeFunc(func() time.Time { return now })); err == nil {
		t.Fatal("unknown-kid token verifies with key-1")
	}
	odd := f.SignActivityToken("app", "u", WithClaim("aud", []any{1, "x"}), WithHeader("kid", 7))
	var hdr map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(odd, ".")[0])
	_ = json.Unmarshal(b, &hdr)
	if hdr["kid"] != float64(7) {
		t.Fatalf("header %v", hdr)
	}
}

func TestTokenServer(t *testing.T) {
	f := NewTokenServer(t, TokenServerOptions{TenantID: "tid", ClientID: "app", ClientSecret: "s"})
	c := f.Client()
	post := func(tenant string, form url.Values) (int, map[string]any) {
		resp, err := c.PostForm(f.AuthorityHost()+tenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"s"}, "scope": {"https://api.botframework.com/.default"}}
	st, body := post("tid", good)
	tok, _ := body["access_token"].(string)
	if st != 200 || tok == "" || body["token_type"] != "Bearer" || !f.Valid(tok) || !f.ValidBearer("Bearer "+tok) {
		t.Fatalf("good request: %d %v", st, body)
	}
	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("client_secret", "wrong")
	if st, body := post("tid", bad); st != 401 || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, body)
	}
	if st, _ := post("other", good); st != 400 {
		t.Fatalf("wrong tenant: %d", st)
	}
	f.SetExpiresIn(-1)
	_, body = post("tid", good)
	if f.Valid(body["access_token"].(string)) {
		t.Fatal("expired token valid")
	}
	f.SetFailing(500)
	if st, _ := post("tid", good); st != 500 {
		t.Fatalf("failing: %d", st)
	}
	if f.TokenRequests() != 5 || len(f.Requests()) != 5 || f.Valid("made-up") {
		t.Fatalf("counters %d", f.TokenRequests())
	}
	var md map[string]any
	getJSON(t, c, f.AuthorityHost()+"tid/v2.0/.well-known/openid-configuration", &md)
	if md["token_endpoint"] != f.AuthorityHost()+"tid/oauth2/v2.0/token" || f.MetadataRequests() != 1 {
		t.Fatalf("metadata %v", md)
	}
	path := WriteCertificatePEM(t, t.TempDir(), f.Server)
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Fatalf("CA file: %v", err)
	}
}

func TestConnectorRecordsAndScripts(t *testing.T) {
	f := NewConnector(t, ConnectorOptions{TLS: true})
	c := f.Client()
	do := func(method, path, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, f.ServiceURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	conv := url.PathEscape("19:abc@thread.tacv2;messageid=5")
	resp, out := do("POST", "v3/conversations/"+conv+"/activities/5", `{"type":"message","text":"hi"}`)
	if resp.StatusCode != 200 || out["id"] == "" {
		t.Fatalf("reply: %d %v", resp.StatusCode, out)
	}
	r := f.Requests()[0]
	if r.Op != "reply" || r.ConversationID != "19:abc@thread.tacv2;messageid=5" || r.ActivityID != "5" || r.Body["text"] != "hi" || r.Authorization != "Bearer x" {
		t.Fatalf("recorded %+v", r)
	}
	f.Enqueue(Response{Status: 429, RetryAfter: "2"}, Response{Status: 202})
	resp, _ = do("POST", "v3/conversations/c/activities", `{"type":"message"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("scripted 429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, out = do("POST", "v3/conversations/c/activities", `{"type":"message"}`)
	if resp.StatusCode != 202 || out != nil {
		t.Fatalf("scripted 202: %d %v", resp.StatusCode, out)
	}
	if resp, _ := do("POST", "v3/conversations/c/activities", `not json`); resp.StatusCode != 400 {
		t.Fatalf("bad body: %d", resp.StatusCode)
	}
	resp, out = do("POST", "v3/conversations", `{"isGroup":true,"channelData":{"channel":{"id":"19:x@thread.tacv2"}}}`)
	if resp.StatusCode != 201 || out["id"] == "" || out["activityId"] == "" {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	if resp, _ := do("GET", "v3/conversations/c/members/29:u", ""); resp.StatusCode != 404 {
		t.Fatalf("unknown member: %d", resp.StatusCode)
	}
	f.SetMember("c", ConnectorMember{ID: "29:u", UserPrincipalName: "u@x"})
	if resp, out := do("GET", "v3/conversations/c/members/29:u", ""); resp.StatusCode != 200 || out["userPrincipalName"] != "u@x" {
		t.Fatalf("member: %d %v", resp.StatusCode, out)
	}
	f.RequireAuth(func(h string) bool { return h == "Bearer good" })
	if resp, _ := do("POST", "v3/conversations/c/activities", `{"type":"message"}`); resp.StatusCode != 401 {
		t.Fatalf("auth required: %d", resp.StatusCode)
	}
	if n := len(f.Activities()); n != 2 {
		t.Fatalf("%d successful activities, want 2 (reply and the 202)", n)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Second)
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(start); got != 3*time.Second {
		t.Fatalf("clock moved %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil || c.Now().Sub(start) != 3*time.Second {
		t.Fatal("sleep with a canceled context advanced the clock")
	}
	if s := c.Sleeps(); len(s) != 1 || s[0] != 2*time.Second {
		t.Fatalf("sleeps %v", s)
	}
}
