package graph

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func kinds(ms []Method) string {
	var ks []string
	for _, m := range ms {
		ks = append(ks, string(m.Kind))
	}
	return strings.Join(ks, ",")
}

func TestDemoStudents(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	tests := []struct {
		name, display, upn, kinds string
	}{
		{"sam", "Sam de Vries", "sam@student.example.nl", "password,authenticator,phone"},
		{"lars", "Lars Jansen", "lars@student.example.nl", "password,authenticator"},
		{"noor", "Noor El Amrani", "noor@student.example.nl", "password,phone"},
		{"eva", "Eva Bakker", "eva@student.example.nl", "password"},
		{"kim", "Kim Nguyen", "kim@student.example.nl", "password,authenticator,authenticator,phone"},
		{"pia", "Pia Visser", "pia@student.example.nl", "password,authenticator,phone"},
		{"ben", "Ben Mulder", "ben@student.example.nl", "password,authenticator,fido2,fido2,phone"},
	}
	if got := strings.Join(DemoStudents(), ","); got != "sam,lars,noor,eva,kim,pia,ben" {
		t.Fatalf("DemoStudents() = %s", got)
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		id := DemoUserID(tt.name)
		if !guidRE.MatchString(id) {
			t.Errorf("DemoUserID(%s) = %q, not GUID-shaped", tt.name, id)
		}
		if DemoUserID(tt.name) != id || DemoUserID(strings.ToUpper(tt.name)) != id {
			t.Errorf("DemoUserID(%s) not stable", tt.name)
		}
		u, err := d.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != id || u.DisplayName != tt.display || u.UserPrincipalName != tt.upn || u.PreferredLanguage == "" {
			t.Errorf("%s: user = %+v", tt.name, u)
		}
		ms, err := d.Methods(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(ms); got != tt.kinds {
			t.Errorf("%s: kinds = %s, want %s", tt.name, got, tt.kinds)
		}
		for _, m := range ms {
			if !guidRE.MatchString(m.ID) || ids[m.ID] {
				t.Errorf("%s: method id %q not a unique GUID", tt.name, m.ID)
			}
			ids[m.ID] = true
			if m.Kind == KindPhone && !strings.HasPrefix(m.PhoneMasked, "+31 6 ** ** ** ") {
				t.Errorf("%s: phone not masked: %q", tt.name, m.PhoneMasked)
			}
		}
	}
	sam, _ := d.Methods(ctx, DemoUserID("sam"))
	if a := Authenticators(sam); len(a) != 1 || a[0].DisplayName != "iPhone 12" {
		t.Errorf("sam's Authenticator = %+v, want the old iPhone 12", a)
	}
	if !IsSimulation(d) || !d.IsSimulation() {
		t.Error("demo directory does not say it is a simulation")
	}
}

func TestDemoHappyPathVerification(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	id := DemoUserID("sam")
	start, _ := d.Methods(ctx, id)
	snapshot := IDs(start)
	old := Authenticators(start)[0]

	d.SimulateStepDone(id, "step9") // nothing changes before step 10
	if ms, _ := d.Methods(ctx, id); len(AddedSince(snapshot, ms, KindAuthenticator)) != 0 || len(ms) != len(start) {
		t.Fatalf("step 9 changed the account: %+v", ms)
	}

	d.SimulateStepDone(id, "step10")
	d.SimulateStepDone(id, "step10") // a repeated confirmation adds no second device
	after10, _ := d.Methods(ctx, id)
	added := AddedSince(snapshot, after10, KindAuthenticator)
	if len(added) != 1 || added[0].DisplayName != demoNewDevice || !guidRE.MatchString(added[0].ID) {
		t.Fatalf("after step 10 added = %+v", added)
	}
	if !HasID(after10, old.ID) {
		t.Fatal("step 10 removed the old phone")
	}

	d.SimulateStepDone(id, "step11")
	after11, _ := d.Methods(ctx, id)
	if HasID(after11, old.ID) {
		t.Error("step 11 did not remove the old Authenticator")
	}
	if !HasID(after11, added[0].ID) {
		t.Error("step 11 removed the new Authenticator")
	}
	if !HasKind(after11, KindPhone) || !HasKind(after11, KindPassword) {
		t.Errorf("step 11 removed more than the old Authenticator: %s", kinds(after11))
	}
	d.SimulateStepDone(id, "step12") // nothing left to remove
	if after12, _ := d.Methods(ctx, id); kinds(after12) != kinds(after11) {
		t.Errorf("step 12 changed %s to %s", kinds(after11), kinds(after12))
	}

	d.Reset(id)
	if ms, _ := d.Methods(ctx, id); strings.Join(IDs(ms), ",") != strings.Join(snapshot, ",") {
		t.Errorf("Reset: %v, want %v", IDs(ms), snapshot)
	}
}

func TestDemoKimRemovesOneDevice(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	id := DemoUserID("kim")
	start, _ := d.Methods(ctx, id)
	auths := Authenticators(start)
	d.SimulateRemove(id, auths[1].ID)
	d.SimulateRemove(id, Phones(start)[0].ID) // never removes a phone
	ms, _ := d.Methods(ctx, id)
	if HasID(ms, auths[1].ID) || !HasID(ms, auths[0].ID) || !HasKind(ms, KindPhone) {
		t.Errorf("after SimulateRemove: %s", kinds(ms))
	}
}

// Kim has two Authenticator devices (Pixel 6 first, then an iPad) and
// replaces the Pixel: confirming step 11 removes the Pixel only; step 12
// (the OK of the same delete), a second step 11 (after "back") and a
// second step 12 leave the iPad, the new phone and the phone number.
func TestDemoKimStep11RemovesOnlyTheReplacedDevice(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	id := DemoUserID("kim")
	start, _ := d.Methods(ctx, id)
	pixel, ipad := Authenticators(start)[0], Authenticators(start)[1]
	if pixel.DisplayName != "Pixel 6" || ipad.DisplayName != "iPad" {
		t.Fatalf("kim's devices = %+v", Authenticators(start))
	}
	d.SimulateStepDone(id, "step10")
	d.SimulateStepDone(id, "step11")
	after11, _ := d.Methods(ctx, id)
	if HasID(after11, pixel.ID) || !HasID(after11, ipad.ID) {
		t.Fatalf("after step 11: %+v, want the Pixel gone and the iPad kept", Authenticators(after11))
	}
	for _, step := range []string{"step12", "step11", "step12"} {
		d.SimulateStepDone(id, step)
	}
	ms, _ := d.Methods(ctx, id)
	if !HasID(ms, ipad.ID) || len(Authenticators(ms)) != 2 || !HasKind(ms, KindPhone) {
		t.Errorf("after steps 12, 11, 12 again: %s %+v, want the iPad and the new phone", kinds(ms), Authenticators(ms))
	}
	d.Reset(id)
	d.SimulateStepDone(id, "step11")
	if ms, _ := d.Methods(ctx, id); HasID(ms, pixel.ID) || !HasID(ms, ipad.ID) {
		t.Errorf("after Reset, step 11 does not remove the replaced phone again: %+v", Authenticators(ms))
	}
}

func TestDemoUnknownIDsGetOwnCopyOfDefault(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	a, b := "user-id-0", "00000000-0000-0000-0000-000000000001"
	ua, _ := d.User(ctx, a)
	if ua.ID != a || ua.DisplayName != "Sam de Vries" {
		t.Errorf("unknown id user = %+v", ua)
	}
	d.SimulateStepDone(a, "step10")
	ma, _ := d.Methods(ctx, a)
	mb, _ := d.Methods(ctx, b)
	msam, _ := d.Methods(ctx, DemoUserID("sam"))
	if len(Authenticators(ma)) != 2 || len(Authenticators(mb)) != 1 || len(Authenticators(msam)) != 1 {
		t.Errorf("state shared between ids: a=%s b=%s sam=%s", kinds(ma), kinds(mb), kinds(msam))
	}
	if HasID(mb, Authenticators(ma)[0].ID) {
		t.Error("two unknown ids share method ids")
	}
	// Returned slices are copies.
	ma[0].DisplayName = "changed"
	if again, _ := d.Methods(ctx, a); again[0].DisplayName == "changed" {
		t.Error("Methods returned the internal slice")
	}
}

func TestDemoUnknownIDsCapped(t *testing.T) {
	d := NewDemo()
	for i := range demoMaxUnknown + 50 {
		d.SimulateStepDone(guid(string(rune(i))+"x"), "step1")
	}
	d.mu.Lock()
	n := len(d.accounts)
	d.mu.Unlock()
	if n != demoMaxUnknown+len(demoStudents) {
		t.Errorf("accounts = %d, want cap %d", n, demoMaxUnknown+len(demoStudents))
	}
}

func TestDemoCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewDemo().Methods(ctx, DemoUserID("sam")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestDemoConcurrent(t *testing.T) {
	d := NewDemo()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := DemoUserID(DemoStudents()[i%5])
			for range 50 {
				d.SimulateStepDone(id, "step10")
				_, _ = d.Methods(ctx, id)
				_, _ = d.User(ctx, "unknown-"+id)
				d.SimulateStepDone(id, "step11")
			}
		}()
	}
	wg.Wait()
}

func TestMethodHelpers(t *testing.T) {
	ms := []Method{{ID: "a", Kind: KindAuthenticator}, {ID: "p", Kind: KindPhone}, {ID: "b", Kind: KindAuthenticator}}
	if !HasKind(ms, KindPhone) || HasKind(ms, KindFIDO2) {
		t.Error("HasKind")
	}
	if got := IDs(Authenticators(ms)); strings.Join(got, ",") != "a,b" {
		t.Errorf("Authenticators = %v", got)
	}
	if got := AddedSince([]string{"a", "p"}, ms, KindAuthenticator); len(got) != 1 || got[0].ID != "b" {
		t.Errorf("AddedSince = %+v", got)
	}
	if len(Phones(ms)) != 1 || !HasID(ms, "p") || HasID(ms, "x") {
		t.Error("Phones/HasID")
	}
}

// Pia's new phone registers only a passkey in Authenticator (the app's
// Sign in path): it is a new entry in the app, not an Authenticator
// method; step 11 removes her old phone's Authenticator.
func TestDemoPiaRegistersAPasskeyOnly(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	id := DemoUserID("pia")
	start, _ := d.Methods(ctx, id)
	d.SimulateStepDone(id, "step10")
	d.SimulateStepDone(id, "step10")
	after10, _ := d.Methods(ctx, id)
	if n := len(AddedSince(IDs(start), after10, KindAuthenticator)); n != 0 {
		t.Errorf("%d Authenticator methods added, want none (a passkey only)", n)
	}
	added := NewInApp(IDs(start), after10)
	if len(added) != 1 || !added[0].IsAuthenticatorPasskey() || added[0].IsSecurityKey() || added[0].Kind != KindFIDO2 {
		t.Fatalf("new entries in the app = %+v, want one passkey in Authenticator", added)
	}
	d.SimulateStepDone(id, "step11")
	after11, _ := d.Methods(ctx, id)
	if HasID(after11, Authenticators(start)[0].ID) || !HasID(after11, added[0].ID) || !HasKind(after11, KindPhone) {
		t.Errorf("after step 11: %s", kinds(after11))
	}
}

// Ben's old phone has an Authenticator entry and a passkey in
// Authenticator, and he owns a security key. His new phone registers
// both; step 11 removes the old phone's two entries, never the key.
func TestDemoBenRegistersBothAndKeepsHisSecurityKey(t *testing.T) {
	ctx := context.Background()
	d := NewDemo()
	id := DemoUserID("ben")
	start, _ := d.Methods(ctx, id)
	var key, oldPasskey Method
	for _, m := range start {
		switch {
		case m.IsSecurityKey():
			key = m
		case m.IsAuthenticatorPasskey():
			oldPasskey = m
		}
	}
	if key.ID == "" || oldPasskey.ID == "" || key.InAuthenticatorApp() || !oldPasskey.InAuthenticatorApp() {
		t.Fatalf("ben's start: %+v", start)
	}
	d.SimulateStepDone(id, "step10")
	after10, _ := d.Methods(ctx, id)
	added := NewInApp(IDs(start), after10)
	if len(added) != 2 || added[0].Kind != KindAuthenticator || !added[1].IsAuthenticatorPasskey() {
		t.Fatalf("new entries = %+v, want an Authenticator and a passkey", added)
	}
	d.SimulateStepDone(id, "step11")
	d.SimulateRemove(id, key.ID) // not an entry in the app: never removed
	after11, _ := d.Methods(ctx, id)
	if HasID(after11, Authenticators(start)[0].ID) || HasID(after11, oldPasskey.ID) {
		t.Errorf("step 11 left the old phone's entries: %+v", after11)
	}
	if !HasID(after11, key.ID) || !HasID(after11, added[0].ID) || !HasID(after11, added[1].ID) || !HasKind(after11, KindPhone) {
		t.Errorf("step 11 removed more than the old phone: %+v", after11)
	}
}

func TestPasskeyKinds(t *testing.T) {
	for _, c := range []struct {
		m                Method
		passkey, key, in bool
		platform         string
	}{
		{Method{Kind: KindFIDO2, AAGUID: AAGUIDAuthenticatorAndroid}, true, false, true, "android"},
		{Method{Kind: KindFIDO2, AAGUID: strings.ToUpper(AAGUIDAuthenticatorIOS)}, true, false, true, "ios"},
		{Method{Kind: KindFIDO2, AAGUID: "2fc0579f-8113-47ea-b116-555a8db9202a"}, false, true, false, ""},
		{Method{Kind: KindFIDO2}, false, true, false, ""},
		{Method{Kind: KindAuthenticator}, false, false, true, ""},
		{Method{Kind: KindWindowsHello, AAGUID: AAGUIDAuthenticatorIOS}, false, false, false, ""},
	} {
		if c.m.IsAuthenticatorPasskey() != c.passkey || c.m.IsSecurityKey() != c.key || c.m.InAuthenticatorApp() != c.in ||
			(c.passkey && c.m.PasskeyPlatform() != c.platform) {
			t.Errorf("%+v: passkey %v key %v in app %v platform %q", c.m, c.m.IsAuthenticatorPasskey(), c.m.IsSecurityKey(),
				c.m.InAuthenticatorApp(), c.m.PasskeyPlatform())
		}
	}
}
