package bot

import (
	"os"
	"path/filepath"
	"testing"

	"mfabot/handoff"
)

func TestStripMentions(t *testing.T) {
	cases := map[string]string{
		"<at>MFA bot</at> hallo":              "hallo",
		"hallo <at>MFA bot</at>":              "hallo",
		"<at id=\"0\">MFA Bot</at>&nbsp;help": "help",
		"  gewoon   tekst \n":                 "gewoon tekst",
		"<AT>Bot</AT>lukt niet":               "lukt niet",
		"a &amp; b":                           "a & b",
		"":                                    "",
	}
	for in, want := range cases {
		if got := StripMentions(in); got != want {
			t.Errorf("StripMentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseActivityFields(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "playground", "execute-invoke.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseActivity(b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Platform() != "Web" {
		t.Errorf("platform %q", a.Platform())
	}
	if tid, ok := a.TenantID(); tid != "00000000-0000-0000-0000-0000000000001" || !ok {
		t.Errorf("tenant %q %v", tid, ok)
	}
	v := a.turnValue()
	if v["choice"] != "exec" || v["verb"] != "doit" {
		t.Errorf("value %v", v)
	}
	if _, looks := a.staffActionOf(); looks {
		t.Error("a student's Action.Execute taken for a staff action")
	}

	// A value that is not an object (msbotbuilder-go's schema fails on it)
	// parses; it is just no card data.
	a, err = ParseActivity([]byte(`{"type":"message","value":"text","entities":[{"type":"mention"},5]}`))
	if err != nil {
		t.Fatalf("string value: %v", err)
	}
	if a.ValueObject() != nil || a.Platform() != "" {
		t.Errorf("odd value/entities read as %v %q", a.ValueObject(), a.Platform())
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{"type":1}`, `{"from":"x"}`, `{} {}`, `{"type":"message"`} {
		if _, err := ParseActivity([]byte(bad)); err == nil {
			t.Errorf("ParseActivity(%q) accepted", bad)
		}
	}
}

func TestStaffActionRecognition(t *testing.T) {
	cases := []struct {
		body  string
		looks bool
		verb  string
		id    int64
	}{
		{`{"type":"message","value":{"verb":"claim","escalationId":12}}`, true, handoff.VerbClaim, 12},
		{`{"type":"message","value":{"verb":"resolve","escalationId":"12","note":"ok"}}`, true, handoff.VerbResolve, 12},
		{`{"type":"message","value":{"escalationId":1.5}}`, true, "", 0},
		{`{"type":"message","value":{"action":"reopen"}}`, true, handoff.VerbReopen, 0},
		{`{"type":"message","value":{"step":"s3","answer":"done"}}`, false, "", 0},
		{`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"verb":"mfabot.staff","data":{"verb":"claim","escalationId":3}}}}`, true, handoff.VerbClaim, 3},
		{`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"verb":"mfabot.staff"}}}`, true, "", 0},
		{`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"verb":"next","data":{"step":"s1"}}}}`, false, "", 0},
	}
	for _, c := range cases {
		a, err := ParseActivity([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		act, looks := a.staffActionOf()
		if looks != c.looks || act.Verb != c.verb || act.EscalationID != c.id {
			t.Errorf("%s: looks %v verb %q id %d", c.body, looks, act.Verb, act.EscalationID)
		}
	}
}

func TestLoopbackURL(t *testing.T) {
	good := []string{"http://localhost:56150/_connector", "http://127.0.0.1:3978/", "https://[::1]:8443/x", "http://LOCALHOST/"}
	bad := []string{"", "https://smba.trafficmanager.net/emea/", "http://localhost.evil.example/", "http://user@localhost/",
		"ftp://localhost/", "http://10.0.0.1/", "//localhost/", "http://0.0.0.0/"}
	for _, u := range good {
		if !loopbackURL(u) {
			t.Errorf("loopbackURL(%q) = false", u)
		}
	}
	for _, u := range bad {
		if loopbackURL(u) {
			t.Errorf("loopbackURL(%q) = true", u)
		}
	}
}

// FuzzParseActivity: no input makes parsing or any reader of the parsed
// activity panic.
func FuzzParseActivity(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "playground", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":"message","text":"<at>x</at>hi","value":{"verb":"claim","escalationId":"9"}}`))
	f.Add([]byte(`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"data":[1,2]}}}`))
	f.Add([]byte(`{"conversation":{"id":"19:x@thread.tacv2;messageid=1"},"channelData":{"channel":{"id":5}}}`))
	s := &Server{o: Options{StaffChannelID: "19:x@thread.tacv2", Staff: &fakeStaff{}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseActivity(body)
		if err != nil {
			return
		}
		_, _ = a.TenantID()
		_ = a.TeamsChannelID()
		_ = a.Platform()
		_ = a.BotAdded()
		_ = a.turnValue()
		_, _ = a.staffActionOf()
		_ = a.ref()
		_ = StripMentions(a.Text)
		_ = s.classify(a)
		_ = dedupKey(a)
	})
}
