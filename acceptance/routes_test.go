package acceptance

import (
	"strings"
	"testing"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

// TestRoutes: the other situations of the welcome card, each against the
// production binary and the fake Graph, asserting what the student and
// the service desk see.
func TestRoutes(t *testing.T) {
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), ""), secretEnv())

	t.Run("same number: approve with a call", func(t *testing.T) {
		const oid = "1c7c5f3e-3333-4a2b-9c3d-5e6f7a8b9c0d"
		m.graph.SetUser(oid, "Lotte Bakker", "s2000001@student.example.nl", "nl-NL")
		m.graph.AddMethod(oid, graphfake.Authenticator("7803c096-c096-6803-96c0-036896c00368", "Galaxy S9"))
		m.graph.AddMethod(oid, graphfake.Phone("4179e48a-750b-4051-897c-87b9720928f7", "+31 687654321", "mobile"))
		s := m.student(t, p, oid, "Lotte Bakker")
		acts := s.welcome()
		same := button(buttons(acts), "new_phone_same_number")
		if same == nil {
			t.Fatalf("no new_phone_same_number button:\n%s", texts(acts))
		}
		acts = s.click(same)
		// Step 1 first; the call comes in step 2.
		for i := 0; i < 3 && !strings.Contains(texts(acts), "Bellen"); i++ {
			next := forward(buttons(acts))
			if next == nil {
				break
			}
			acts = s.click(next)
		}
		got := texts(acts)
		if !strings.Contains(got, "Bellen") || !strings.Contains(got, "** 21") {
			t.Errorf("the same-number route does not tell the student to choose Bellen on the masked number:\n%s", got)
		}
		if strings.Contains(strings.ReplaceAll(got, " ", ""), "687654321") {
			t.Errorf("the full number is shown:\n%s", got)
		}
	})

	t.Run("lost phone without another method: the desk, with the staff card", func(t *testing.T) {
		const oid = "2d4c3b2a-4444-4a2b-9c3d-5e6f7a8b9c0d"
		m.graph.SetUser(oid, "Eva Jansen", "s7654321@student.example.nl", "nl-NL")
		m.graph.AddMethod(oid, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
		m.graph.AddMethod(oid, graphfake.Authenticator("8803c096-c096-6803-96c0-036896c00368", "iPhone 11"))
		s := m.student(t, p, oid, "Eva Jansen")
		m.conn.SetMember(s.convID, msfake.ConnectorMember{ID: s.userID, Name: "Eva Jansen", AADObjectID: oid, UserPrincipalName: "s7654321@student.example.nl"})
		cardsBefore := len(m.staffCards())
		acts := s.welcome()
		lost := button(buttons(acts), "lost_phone")
		if lost == nil {
			t.Fatalf("no lost_phone button:\n%s", texts(acts))
		}
		acts = s.click(lost)
		got := texts(acts)
		if !strings.Contains(got, "088") {
			t.Errorf("the lost-phone hand-off does not give the desk's phone number:\n%s", got)
		}
		if !strings.Contains(strings.ToLower(got), "identiteitsbewijs") {
			t.Errorf("the lost-phone hand-off does not say what to bring for the identity check:\n%s", got)
		}
		waitFor(t, p, "the staff card", func() bool { return len(m.staffCards()) > cardsBefore })
		card := string(m.staffCards()[len(m.staffCards())-1].Raw)
		if !strings.Contains(card, "Eva Jansen") || !strings.Contains(card, "Action.Execute") {
			t.Errorf("the staff card does not name the student or offer claim buttons:\n%s", card)
		}
		// Staff read names, not the engine's ids.
		if !strings.Contains(card, `"value":"Telefoon kwijt of kapot"`) || !strings.Contains(card, `"value":"Geen bruikbare aanmeldmethode"`) ||
			strings.Contains(card, `"value":"lost_phone"`) || strings.Contains(card, `"value":"no_usable_method"`) || strings.Contains(card, `"value":"welcome"`) {
			t.Errorf("the staff card shows ids instead of names:\n%s", card)
		}
	})

	t.Run("approval requests the student did not start: security hand-off", func(t *testing.T) {
		const oid = "3e4c3b2a-5555-4a2b-9c3d-5e6f7a8b9c0d"
		m.graph.SetUser(oid, "Noah Visser", "s3000003@student.example.nl", "nl-NL")
		m.graph.AddMethod(oid, graphfake.Authenticator("9803c096-c096-6803-96c0-036896c00368", "Pixel 6"))
		s := m.student(t, p, oid, "Noah Visser")
		m.conn.SetMember(s.convID, msfake.ConnectorMember{ID: s.userID, Name: "Noah Visser", AADObjectID: oid, UserPrincipalName: "s3000003@student.example.nl"})
		cardsBefore := len(m.staffCards())
		s.welcome()
		acts := s.say("ik krijg steeds meldingen om in te loggen maar ik doe zelf niks")
		got := strings.ToLower(texts(acts))
		if !strings.Contains(got, "weiger") || !strings.Contains(got, "wachtwoord") {
			t.Errorf("an unexpected approval request does not get 'deny' and 'change your password':\n%s", got)
		}
		waitFor(t, p, "the security staff card", func() bool { return len(m.staffCards()) > cardsBefore })
		card := string(m.staffCards()[len(m.staffCards())-1].Raw)
		if !strings.Contains(card, "BEVEILIGING") {
			t.Errorf("the staff card is not marked as security:\n%s", card)
		}
	})
}
