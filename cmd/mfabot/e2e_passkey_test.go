package main

import (
	"slices"
	"strings"
	"testing"

	"mfabot/graph/graphfake"
	"mfabot/store"
)

// TestE2EPasskeysVerifiedThroughGraph walks the move-phone route through
// the wired binary against the Graph fake with Microsoft's FIDO2 shapes
// (#microsoft.graph.fido2AuthenticationMethod, aaGuid, model,
// displayName, createdDateTime): a new phone that registers only a
// passkey in Authenticator (Dutch, the app's sign-in path at step 7), and
// one that registers a passkey and an Authenticator entry while the
// student keeps a security key (English, the QR path). Both end
// verified; the old phone's entries are gone and the key is not.
func TestE2EPasskeysVerifiedThroughGraph(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name     string
		fake     graphfake.Student
		english  bool
		path     string // the button pressed at step 7
		summary  []string
		found    string
		step11   []string
		endsWith string
	}{
		{"passkey only", graphfake.PasskeyOnlyStudent(), false, "signin_path",
			[]string{"de Authenticator-app op 'Galaxy S21'"},
			"Gelukt: ik zie een passkey in Authenticator op 'Pixel 9' bij je account.",
			[]string{"'Galaxy S21'"}, "Je kunt weer inloggen met de Authenticator-app op je nieuwe telefoon. Ik heb het gecontroleerd"},
		{"passkey and push, security key kept", graphfake.PasskeyAndPushStudent(), true, "done",
			[]string{"een passkey in Authenticator op 'iPhone 11'", "een beveiligingssleutel"},
			"Found it: the Authenticator app on 'iPhone 16' is on your account, with a passkey.",
			[]string{"'iPhone 11'", "Passkey in Microsoft Authenticator", "Keep your security key."}, "I checked: everything is in order"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := c.fake
			w.graph.AddStudent(fs)
			s := w.student(fs.ObjectID, fs.DisplayName)
			acts := s.welcome()
			for _, want := range c.summary {
				if !strings.Contains(texts(acts), want) {
					t.Errorf("the welcome does not say %q:\n%s", want, texts(acts))
				}
			}
			if c.english {
				s.say("English please")
			}
			acts = s.click(find(buttons(acts), "move_phone"), "welcome-card")
			var all []map[string]any
			registered, removed := false, false
			for turns := 0; turns < 40; turns++ {
				all = append(all, acts...)
				bs := buttons(acts)
				if find(bs, "rate") != nil {
					break
				}
				step, _ := bs[0]["step"].(string)
				next := find(bs, "done")
				switch step {
				case "step07":
					next = find(bs, c.path)
				case "step10":
					if !registered {
						w.graph.RegisterNewPhone(fs)
						registered = true
					}
				case "step11":
					for _, want := range c.step11 {
						if !strings.Contains(texts(acts), want) {
							t.Errorf("step 11 does not say %q:\n%s", want, texts(acts))
						}
					}
					if !removed {
						w.graph.RemoveOldPhone(fs)
						removed = true
					}
				}
				if next == nil {
					t.Fatalf("stuck at %q: %v\n%s", step, bs, texts(acts))
				}
				acts = s.click(next, "card")
			}
			everything := texts(all) + texts(acts)
			for _, want := range []string{c.found, c.endsWith} {
				if !strings.Contains(everything, want) {
					t.Errorf("the conversation never says %q:\n%s", want, everything)
				}
			}
			if c.path == "signin_path" && !strings.Contains(everything, "Typ in de app je e-mailadres van school en log in.") {
				t.Errorf("step 8 did not follow the sign-in path:\n%s", everything)
			}
			ids := w.graph.MethodIDs(fs.ObjectID)
			for _, id := range fs.OldPhone {
				if slices.Contains(ids, id) {
					t.Errorf("old entry %s still registered", id)
				}
			}
			for _, id := range fs.Keep {
				if !slices.Contains(ids, id) {
					t.Errorf("%s was removed; it must stay (security key, phone number, password)", id)
				}
			}
			if n := w.graph.Count("/users/" + fs.ObjectID + "/authentication/methods"); n < 3 {
				t.Errorf("methods read %d times, want at the start, after step 10 and after step 12", n)
			}
		})
	}
	if got := w.outcomes()[store.OutcomeVerifiedResolved]; got != 2 {
		t.Errorf("verified_resolved = %d, want 2 (%v)", got, w.outcomes())
	}
}
