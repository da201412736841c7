package graphfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const uid = "86462606-fde0-4fc4-9e0c-a20eb73e54c6"

func get(t *testing.T, g *Graph, path, auth string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.BaseURL()+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func ids(t *testing.T, body string) string {
	t.Helper()
	var l struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, v := range l.Value {
		out = append(out, v.ID)
	}
	return strings.Join(out, ",")
}

func TestFakeGraph(t *testing.T) {
	g := New(t, Options{ValidBearer: func(a string) bool { return a == "Bearer good" }})
	g.SetUser(uid, "Sam de Vries", "sam@student.example.nl", "nl-NL")
	g.AddMethod(uid, Password("pw"))
	g.AddMethod(uid, Authenticator("old", "iPhone 12"))
	g.AddMethod(uid, Phone("ph", "+31 612345678", "mobile"))
	mp := "/users/" + uid + "/authentication/methods"

	if st, body, _ := get(t, g, mp, ""); st != 401 || !strings.Contains(body, "InvalidAuthenticationToken") {
		t.Errorf("no token: %d %s", st, body)
	}
	if st, _, _ := get(t, g, mp, "Bearer other"); st != 401 {
		t.Errorf("bad token: %d", st)
	}
	if st, body, _ := get(t, g, "/users/"+uid, "Bearer good"); st != 200 || !strings.Contains(body, `"displayName":"Sam de Vries"`) {
		t.Errorf("user: %d %s", st, body)
	}
	if st, body, _ := get(t, g, "/users/unknown", "Bearer good"); st != 404 || !strings.Contains(body, `"message"`) {
		t.Errorf("unknown user: %d %s", st, body)
	}

	// The new phone shows up on the third read; then the old one goes.
	g.AddMethodAfter(uid, Authenticator("new", "Nieuwe telefoon"), 2)
	for i, want := range []string{"pw,old,ph", "pw,old,ph", "pw,old,ph,new"} {
		if _, body, _ := get(t, g, mp, "Bearer good"); ids(t, body) != want {
			t.Errorf("read %d: %s, want %s", i+1, ids(t, body), want)
		}
	}
	g.RemoveMethod(uid, "old")
	if _, body, _ := get(t, g, mp, "Bearer good"); ids(t, body) != "pw,ph,new" {
		t.Errorf("after removal: %s", ids(t, body))
	}

	g.Enqueue(mp, Reply{Status: 429, Body: ErrorBody("TooManyRequests", "Too many requests."), RetryAfter: "7"})
	if st, _, h := get(t, g, mp, "Bearer good"); st != 429 || h.Get("Retry-After") != "7" {
		t.Errorf("scripted 429: %d %v", st, h)
	}
	if st, _, _ := get(t, g, mp, "Bearer good"); st != 200 {
		t.Errorf("after the script: %d", st)
	}
	if st, _, _ := get(t, g, "/reports/authenticationMethods/userRegistrationDetails/"+uid, "Bearer good"); st != 403 {
		t.Errorf("registration without report: %d", st)
	}
	if n := g.Count(mp); n != 6 {
		t.Errorf("Count = %d, want 6 authorized reads", n)
	}

	// Fixture bodies are served verbatim.
	fixture := []byte(`{"@odata.context":"x","value":[{"@odata.type":"#microsoft.graph.passwordAuthenticationMethod","id":"f1"}]}`)
	if err := g.SetMethodsJSON(uid, fixture); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := get(t, g, mp, "Bearer good"); body != string(fixture) {
		t.Errorf("fixture body = %s", body)
	}
}

// A gzipped write (as msgraph-sdk-go sends) is read; the service desk's
// TAP create answers 201 (actions.go), other writes are refused.
func TestFakeGraphGunzipsWrites(t *testing.T) {
	g := New(t, Options{})
	g.SetUser(uid, "Sam", "sam@example.nl", "nl-NL")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"lifetimeInMinutes":60}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, g.BaseURL()+"/users/"+uid+"/authentication/temporaryAccessPassMethods", &buf)
	req.Header.Set("Authorization", "Bearer any")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(g.CreatedTAPs()) != 1 || g.CreatedTAPs()[0].LifetimeMinutes != 60 {
		t.Errorf("POST TAP: %d, created %+v", resp.StatusCode, g.CreatedTAPs())
	}
	req, _ = http.NewRequest(http.MethodPatch, g.BaseURL()+"/users/"+uid, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer any")
	if resp, err = g.Client().Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PATCH: %d, want 405", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, g.BaseURL()+"/users/x", strings.NewReader("not gzip"))
	req.Header.Set("Authorization", "Bearer any")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err = g.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad gzip: %d", resp.StatusCode)
	}
}
