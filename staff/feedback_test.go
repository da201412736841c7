package staff

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"mfabot/store"
)

// seedFeedback stores answers in two conversations and reactions on
// some of them; the second conversation has an escalation.
func seedFeedback(t *testing.T, st store.Store, escConv string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	answer := func(conv, id, step string, at time.Time) {
		t.Helper()
		if err := st.RecordAnswer(ctx, store.Answer{ConversationID: conv, ActivityID: id, Step: step, SentAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	react := func(conv, id, reaction, text string, at time.Time) {
		t.Helper()
		if _, err := st.SetAnswerFeedback(ctx, store.AnswerFeedback{ConversationID: conv, ActivityID: id, Reaction: reaction, Text: text, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	answer("a:fb-1", "1", "step01", now.Add(-3*time.Hour))
	answer("a:fb-1", "2", "step02", now.Add(-2*time.Hour))
	answer("a:fb-1", "3", "step02", now.Add(-2*time.Hour))
	react("a:fb-1", "1", store.ReactionLike, "Duidelijk, dank je", now.Add(-150*time.Minute))
	react("a:fb-1", "2", store.ReactionDislike, `Klopte niet <script>alert(1)</script>`, now.Add(-100*time.Minute))
	answer(escConv, "9", "step10", now.Add(-time.Hour))
	react(escConv, "9", store.ReactionDislike, "", now.Add(-30*time.Minute))
	// Long ago: outside the default period.
	answer("a:fb-old", "1", "step01", now.Add(-90*24*time.Hour))
	react("a:fb-old", "1", store.ReactionLike, "oud", now.Add(-90*24*time.Hour))
}

// The statistics page shows the reactions to the model's answers next
// to the satisfaction scores: the counts for the period, and per
// conversation the newest reactions with what the student typed
// (escaped), linked to the conversation's escalation when it has one.
func TestStatsShowFeedback(t *testing.T) {
	steps := []string{"step01", "step02", "step10"}
	e := newDevEnv(t, steps)
	escID := addEscalation(t, e.st, store.Escalation{StudentName: "Bram", ConversationID: "a:fb-esc", CreatedAt: time.Now().Add(-time.Hour)})
	seedFeedback(t, e.st, "a:fb-esc")

	c := e.devSignIn(t, "Ine")
	res, body := get(t, c, e.srv.URL+"/staff/stats?days=30")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stats: status %d", res.StatusCode)
	}
	sat, fb := strings.Index(body, `id="h-sat"`), strings.Index(body, `id="h-feedback"`)
	if sat < 0 || fb < sat {
		t.Fatalf("the feedback section is not after the satisfaction scores (%d, %d)", sat, fb)
	}
	section := body[fb:]
	for _, want := range []string{
		`<td class="num" id="fb-answers">4</td><td class="num" id="fb-likes">1</td><td class="num" id="fb-dislikes">2</td><td class="num">1</td><td class="num">33%</td>`,
		`<tr id="fb-` + conversationKey("a:fb-1") + `"><th scope="row">Gesprek ` + conversationKey("a:fb-1") + `</th><td class="num">3</td><td class="num">1</td><td class="num">1</td>`,
		`<a href="/staff/escalations/` + itoa(escID) + `">Gesprek ` + conversationKey("a:fb-esc") + `</a>`,
		`Omlaag</span> bij Stap 2: Log in: <q>Klopte niet &lt;script&gt;alert(1)&lt;/script&gt;</q>`,
		`Omhoog</span> bij Stap 1: Open de website: <q>Duidelijk, dank je</q>`,
		`Omlaag</span> bij Stap 10: Rond het toevoegen af</div>`,
	} {
		if !strings.Contains(section, want) {
			t.Errorf("feedback section lacks %s\n%s", want, section)
		}
	}
	// Newest feedback first; nothing from outside the period; no Teams id.
	if i, j := strings.Index(section, conversationKey("a:fb-esc")), strings.Index(section, conversationKey("a:fb-1")); i < 0 || j < 0 || i > j {
		t.Errorf("conversations not newest first (%d, %d)", i, j)
	}
	for _, bad := range []string{"oud", "a:fb-1", "a:fb-esc", "<script>"} {
		if strings.Contains(section, bad) {
			t.Errorf("feedback section shows %q", bad)
		}
	}

	// A period without answers says so.
	e2 := newDevEnv(t, steps)
	_, body = get(t, e2.devSignIn(t, "Ine"), e2.srv.URL+"/staff/stats")
	if !strings.Contains(body, "Geen AI-antwoorden in deze periode.") {
		t.Errorf("empty feedback section missing")
	}
}
