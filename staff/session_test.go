package staff

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T) *server {
	t.Helper()
	st := openStore(t)
	h, err := New(Options{Store: st, Actions: fakeActions{st: st, now: time.Now}, Dev: true, SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return h.(*server)
}

func TestSessionCookieTamperingRefused(t *testing.T) {
	s := testServer(t)
	good, err := s.sign("session", session{Name: "Ine", Subject: "dev:Ine", Method: "dev", CSRF: "c", Expires: time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	var ss session
	if err := s.verify("session", good, &ss); err != nil || ss.Name != "Ine" {
		t.Fatalf("valid cookie refused: %v", err)
	}
	payload, sig, _ := strings.Cut(good, ".")
	forged, _ := s.sign("session", session{Name: "Mallory", CSRF: "c", Expires: time.Now().Add(time.Hour).Unix()})
	forgedPayload, _, _ := strings.Cut(forged, ".")
	login, _ := s.sign("login", session{Name: "Ine", CSRF: "c", Expires: time.Now().Add(time.Hour).Unix()})
	for name, v := range map[string]string{
		"other payload, old signature": forgedPayload + "." + sig,
		"no signature":                 payload,
		"empty signature":              payload + ".",
		"login cookie as session":      login,
		"garbage":                      "%%%.%%%",
	} {
		if err := s.verify("session", v, &ss); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// An expired session is not a session.
	old, _ := s.sign("session", session{Name: "Ine", Method: "dev", CSRF: "c", Expires: time.Now().Add(-time.Second).Unix()})
	req, _ := http.NewRequest(http.MethodGet, "/staff/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: old})
	if s.currentSession(req) != nil {
		t.Error("expired session accepted")
	}
}

func FuzzVerifyCookie(f *testing.F) {
	f.Add("e30.AAAA")
	f.Add("")
	f.Add(".")
	f.Add("eyJuIjoiSW5lIn0.c2ln")
	key := []byte("0123456789abcdef0123456789abcdef")
	s := &server{key: key}
	f.Fuzz(func(t *testing.T, v string) {
		var ss session
		if err := s.verify("session", v, &ss); err == nil {
			t.Fatalf("unsigned value accepted: %q", v)
		}
	})
}

func TestLogout(t *testing.T) {
	e := newDevEnv(t, nil)
	c := e.devSignIn(t, "Ine")
	_, page := get(t, c, e.srv.URL+"/staff/")
	res, _ := postForm(t, c, e.srv.URL+"/staff/logout", url.Values{"csrf": {csrfFrom(t, page)}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login" {
		t.Fatalf("logout: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get(t, c, e.srv.URL+"/staff/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: status %d, want redirect to sign-in", res.StatusCode)
	}
	if got := auditActions(t, e.st, 0); !containsStr(got, "login:Ine") || !containsStr(got, "logout:Ine") {
		t.Errorf("audit = %v", got)
	}
}
