package staff

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"mfabot/store"
)

func TestNoAccessWithoutSignIn(t *testing.T) {
	e := newProdEnv(t)
	id := addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries", StudentUPN: "sanne@student.example"})
	c := e.client(t, false)
	for _, path := range []string{"/staff/", "/staff/escalations/1", "/staff/stats", "/staff/export.csv?status=all"} {
		res, body := get(t, c, e.srv.URL+path)
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s: status %d, want 303", path, res.StatusCode)
		}
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/staff/login?next=") {
			t.Errorf("GET %s: Location %q, want the sign-in page", path, loc)
		}
		if strings.Contains(body, "Sanne") || strings.Contains(body, "sanne@") {
			t.Errorf("GET %s leaks student data without sign-in", path)
		}
	}
	for _, path := range []string{"/staff/queue/fragment", "/staff/escalations/1/version"} {
		res, body := get(t, c, e.srv.URL+path)
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "Sanne") {
			t.Errorf("GET %s: status %d, want 401 without data", path, res.StatusCode)
		}
	}
	res, _ := postForm(t, c, e.srv.URL+"/staff/escalations/1/claim", url.Values{"csrf": {"x"}}, nil)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("POST claim without session: status %d, want 403", res.StatusCode)
	}
	if got := mustEscalation(t, e.st, id); got.Status != store.StatusOpen {
		t.Errorf("status after unauthenticated claim = %s, want open", got.Status)
	}
	// The sign-in page offers the organisation's sign-in, not the developer one.
	res, body := get(t, c, e.srv.URL+"/staff/login?next=%2Fstaff%2F")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/staff/auth/start?next=%2fstaff%2f") && !strings.Contains(body, "/staff/auth/start?next=%2Fstaff%2F") {
		t.Errorf("login page: status %d, no OIDC link:\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "ontwikkelaar") {
		t.Error("login page offers the developer sign-in outside dev mode")
	}
}

func TestOIDCSignInWithStaffGroup(t *testing.T) {
	e := newProdEnv(t)
	e.idp.setUser("Ine Docent", "some-other-group", staffGroup)
	addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries", Situation: "lost_phone"})
	// Start on a deep page: after the sign-in the staff member lands there.
	res, _ := get(t, e.client(t, false), e.srv.URL+"/staff/stats")
	next := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || next != "/staff/login?next=%2Fstaff%2Fstats" {
		t.Fatalf("unauthenticated stats: status %d, Location %q", res.StatusCode, next)
	}
	c := e.client(t, true)
	res, body := get(t, c, e.srv.URL+"/staff/auth/start?next=%2Fstaff%2Fstats")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("after sign-in: status %d\n%s", res.StatusCode, body)
	}
	if res.Request.URL.Path != "/staff/stats" {
		t.Errorf("landed on %s, want /staff/stats", res.Request.URL.Path)
	}
	if !strings.Contains(body, "Aangemeld als <strong>Ine Docent</strong>") {
		t.Errorf("page does not show the signed-in staff member")
	}
	var sc *http.Cookie
	for _, ck := range res.Request.Response.Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil {
		t.Fatal("callback set no session cookie")
	}
	if !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.MaxAge <= 0 || sc.MaxAge > int(sessionTTL/time.Second) {
		t.Errorf("session cookie flags: HttpOnly=%v Secure=%v SameSite=%v MaxAge=%d", sc.HttpOnly, sc.Secure, sc.SameSite, sc.MaxAge)
	}
	res, body = get(t, c, e.srv.URL+"/staff/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sanne de Vries") {
		t.Errorf("queue after sign-in: status %d", res.StatusCode)
	}
	if got := auditActions(t, e.st, 0); !containsStr(got, "login:Ine Docent") {
		t.Errorf("audit after sign-in = %v, want a login entry", got)
	}
}

func TestOIDCSignInWithoutStaffGroupIsForbidden(t *testing.T) {
	for name, groups := range map[string][]string{
		"other groups": {"some-other-group"},
		"no groups":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			e := newProdEnv(t)
			e.idp.setUser("Piet Student", groups...)
			addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries"})
			c := e.client(t, true)
			res, body := get(t, c, e.srv.URL+"/staff/auth/start?next=%2Fstaff%2F")
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403\n%s", res.StatusCode, body)
			}
			if !strings.Contains(body, "Geen toegang") || strings.Contains(body, "Sanne") {
				t.Errorf("403 page wrong or leaks data:\n%s", body)
			}
			if hasCookie(c, e.srv.URL+"/staff/", sessionCookie) {
				t.Error("a session cookie was set for a non-staff account")
			}
			nc := e.client(t, false)
			nc.Jar = c.Jar
			if res, _ := get(t, nc, e.srv.URL+"/staff/"); res.StatusCode != http.StatusSeeOther {
				t.Errorf("queue after refused sign-in: status %d, want redirect to sign-in", res.StatusCode)
			}
			if got := auditActions(t, e.st, 0); !containsStr(got, "login_denied:Piet Student") {
				t.Errorf("audit = %v, want login_denied", got)
			}
		})
	}
}

// signInSteps walks the flow by hand and returns the callback URL the
// identity provider sent the browser to.
func signInSteps(t *testing.T, e *env, c *http.Client) *url.URL {
	t.Helper()
	res, _ := get(t, c, e.srv.URL+"/staff/auth/start?next=/staff/")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("start: status %d", res.StatusCode)
	}
	authURL, _ := url.Parse(res.Header.Get("Location"))
	if q := authURL.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE/nonce/state: %s", authURL)
	}
	res, body := get(t, c, authURL.String())
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d %s", res.StatusCode, body)
	}
	cb, _ := url.Parse(res.Header.Get("Location"))
	return cb
}

func TestOIDCCallbackRefusals(t *testing.T) {
	e := newProdEnv(t)
	e.idp.setUser("Ine Docent", staffGroup)

	check := func(t *testing.T, c *http.Client, u string) {
		t.Helper()
		res, body := get(t, c, u)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("callback: status %d, want 400\n%s", res.StatusCode, body)
		}
		if hasCookie(c, e.srv.URL+"/staff/", sessionCookie) {
			t.Error("callback set a session cookie")
		}
	}

	t.Run("wrong state", func(t *testing.T) {
		c := e.client(t, false)
		cb := signInSteps(t, e, c)
		q := cb.Query()
		q.Set("state", "forged-"+q.Get("state"))
		cb.RawQuery = q.Encode()
		check(t, c, cb.String())
	})
	t.Run("state cannot be reused", func(t *testing.T) {
		c := e.client(t, false)
		cb := signInSteps(t, e, c)
		res, _ := get(t, c, cb.String())
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: status %d", res.StatusCode)
		}
		other := e.client(t, false) // the attacker replays the callback URL
		check(t, other, cb.String())
	})
	t.Run("no login cookie", func(t *testing.T) {
		c := e.client(t, false)
		cb := signInSteps(t, e, c)
		fresh := e.client(t, false)
		check(t, fresh, cb.String())
	})
	t.Run("forged id token signature", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		e.idp.mu.Lock()
		e.idp.signKey = other
		e.idp.mu.Unlock()
		defer func() { e.idp.mu.Lock(); e.idp.signKey = e.idp.key; e.idp.mu.Unlock() }()
		c := e.client(t, false)
		check(t, c, signInSteps(t, e, c).String())
	})
}

func TestDevSignInOnlyFromLoopbackWithoutProxy(t *testing.T) {
	st := openStore(t)
	h, err := New(Options{Store: st, Actions: fakeActions{st: st, now: time.Now}, Dev: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		remote string
		host   string
		header map[string]string
		want   int
	}{
		{"loopback v4", "127.0.0.1:50000", "", nil, http.StatusSeeOther},
		{"loopback v6", "[::1]:50000", "", nil, http.StatusSeeOther},
		{"LAN address", "192.168.1.20:50000", "", nil, http.StatusForbidden},
		{"public address", "203.0.113.9:50000", "", nil, http.StatusForbidden},
		{"X-Forwarded-For", "127.0.0.1:50000", "", map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusForbidden},
		{"Forwarded", "127.0.0.1:50000", "", map[string]string{"Forwarded": "for=203.0.113.9"}, http.StatusForbidden},
		{"X-Real-IP", "127.0.0.1:50000", "", map[string]string{"X-Real-IP": "203.0.113.9"}, http.StatusForbidden},
		{"loopback host name", "127.0.0.1:50000", "localhost:8080", nil, http.StatusSeeOther},
		{"foreign host (DNS rebinding)", "127.0.0.1:50000", "rebind.attacker.example:8080", nil, http.StatusForbidden},
		{"cross-origin form", "127.0.0.1:50000", "", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/staff/login/dev", strings.NewReader("name=Dev+Eloper&next=%2Fstaff%2F"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = tc.remote
			req.Host = "127.0.0.1:8080"
			if tc.host != "" {
				req.Host = tc.host
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			gotSession := false
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == sessionCookie && ck.Value != "" {
					gotSession = true
					if ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
						t.Errorf("dev cookie flags: Secure=%v HttpOnly=%v SameSite=%v", ck.Secure, ck.HttpOnly, ck.SameSite)
					}
				}
			}
			if gotSession != (tc.want == http.StatusSeeOther) {
				t.Errorf("session cookie set = %v", gotSession)
			}
		})
	}

	// The sign-in page does not even show the form to a remote browser.
	req := httptest.NewRequest(http.MethodGet, "/staff/login", nil)
	req.RemoteAddr = "192.168.1.20:50000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "/staff/login/dev") {
		t.Error("the developer sign-in form is shown to a non-loopback client")
	}
}

func TestNoDevSignInOutsideDevMode(t *testing.T) {
	st := openStore(t)
	idp := newFakeIdP(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	h, err := New(Options{Store: st, Actions: fakeActions{st: st, now: time.Now}, SessionKey: key,
		OIDC: OIDCOptions{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.secret, Group: staffGroup}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/staff/login/dev", strings.NewReader("name=Dev"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:50000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || len(rec.Result().Cookies()) != 0 {
		t.Errorf("dev sign-in outside dev mode: status %d, cookies %v; want 404 and none", rec.Code, rec.Result().Cookies())
	}

	// A session minted by a dev instance with the same key is not accepted.
	dev, err := New(Options{Store: st, Actions: fakeActions{st: st, now: time.Now}, Dev: true, SessionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest(http.MethodPost, "/staff/login/dev", strings.NewReader("name=Dev"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:50000"
	req.Host = "127.0.0.1:8080"
	rec = httptest.NewRecorder()
	dev.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("dev sign-in on the dev instance: status %d", rec.Code)
	}
	req = httptest.NewRequest(http.MethodGet, "/staff/", nil)
	for _, ck := range rec.Result().Cookies() {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("dev session on a production dashboard: status %d, want redirect to sign-in", rec.Code)
	}

	if _, err := New(Options{Store: st, Actions: fakeActions{st: st}}); err == nil {
		t.Error("New without OIDC outside dev mode succeeded")
	}
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// A web page the developer visits can reach a loopback port through DNS
// rebinding: its own host name then resolves to 127.0.0.1 and the browser
// sees the dashboard as same-origin. In dev mode every /staff/ request
// must name a loopback host.
func TestDevModeRefusesForeignHost(t *testing.T) {
	e := newDevEnv(t, nil)
	addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries", StudentUPN: "sanne@student.example"})
	_, port, _ := strings.Cut(strings.TrimPrefix(e.srv.URL, "http://"), ":")
	do := func(method, path, host string, body url.Values, cookies []*http.Cookie) *http.Response {
		t.Helper()
		var rd *strings.Reader
		if body != nil {
			rd = strings.NewReader(body.Encode())
		} else {
			rd = strings.NewReader("")
		}
		req, err := http.NewRequest(method, e.srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://"+host)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	login := url.Values{"name": {"mallory"}, "next": {"/staff/"}}
	for _, host := range []string{"rebind.attacker.example:" + port, "rebind.attacker.example", "127.0.0.1.nip.io:" + port, "localhost.attacker.example:" + port, "0.0.0.0:" + port} {
		res := do(http.MethodPost, "/staff/login/dev", host, login, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("dev sign-in with Host %q: status %d, want 403", host, res.StatusCode)
		}
		for _, ck := range res.Cookies() {
			if ck.Name == sessionCookie && ck.Value != "" {
				t.Errorf("dev sign-in with Host %q set a session cookie", host)
			}
		}
	}
	var session []*http.Cookie
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port, "127.0.0.2:" + port, "[::1]:" + port, "localhost"} {
		res := do(http.MethodPost, "/staff/login/dev", host, login, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("dev sign-in with Host %q: status %d, want 303", host, res.StatusCode)
		}
		session = res.Cookies()
	}
	if len(session) == 0 {
		t.Fatal("no session cookie from the loopback sign-in")
	}
	// A session cookie alone is not enough: the rebinding page would send
	// it too once the developer signed in on the same port.
	for _, path := range []string{"/staff/", "/staff/queue/fragment", "/staff/escalations/1", "/staff/export.csv?status=all", "/staff/login"} {
		res := do(http.MethodGet, path, "rebind.attacker.example:"+port, nil, session)
		b := new(strings.Builder)
		_, _ = io.Copy(b, res.Body)
		if res.StatusCode != http.StatusForbidden || strings.Contains(b.String(), "Sanne") {
			t.Errorf("GET %s with a foreign Host: status %d, want 403 without data", path, res.StatusCode)
		}
	}
	if res := do(http.MethodGet, "/staff/", "127.0.0.1:"+port, nil, session); res.StatusCode != http.StatusOK {
		t.Errorf("GET /staff/ on loopback with a session: status %d, want 200", res.StatusCode)
	}
}
