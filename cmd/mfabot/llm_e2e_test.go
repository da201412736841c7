package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"mfabot/dialogs/intent"
	"mfabot/graph/graphfake"
)

// fakeOpenAI is an OpenAI-compatible chat-completions server. Requests
// with a response_format are intent classifications; the others are
// grounded answers. fail makes it answer with that HTTP status.
type fakeOpenAI struct {
	srv *httptest.Server

	mu       sync.Mutex
	fail     int
	intent   string
	answer   string
	requests []string
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, string(body))
		fail, intent, answer := f.fail, f.intent, f.answer
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if fail != 0 {
			w.WriteHeader(fail)
			io.WriteString(w, `{"error":{"message":"upstream failure","type":"server_error","code":null}}`)
			return
		}
		if r.URL.Path != "/v1/chat/completions" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var req struct {
			Model          string          `json:"model"`
			ResponseFormat json.RawMessage `json:"response_format"`
		}
		json.Unmarshal(body, &req)
		content := answer
		if len(req.ResponseFormat) > 0 {
			content = fmt.Sprintf(`{"intent":%q,"confidence":0.92}`, intent)
		}
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1764220800, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
			"usage": map[string]any{"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) set(fail int, intent, answer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.intent, f.answer = fail, intent, answer
}

func (f *fakeOpenAI) captured() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.requests, "\n")
}

func TestE2EFreeTextAndQuestionsThroughTheLLM(t *testing.T) {
	ai := newFakeOpenAI(t)
	t.Setenv("MFABOT_LLM_PROVIDER", "openai")
	t.Setenv("MFABOT_LLM_BASE_URL", ai.srv.URL+"/v1")
	t.Setenv("MFABOT_LLM_API_KEY", "sk-test")
	t.Setenv("MFABOT_LLM_MODEL", "gpt-test")
	w := newWorld(t)
	const oid = "3c4d5e6f-6666-4a2b-9c3d-5e6f7a8b9c0d"
	w.graph.SetUser(oid, "Lars Smit", "s3333333@student.example.nl", "nl-NL")
	w.graph.AddMethod(oid, graphfake.Authenticator("6803c096-c096-6803-96c0-036896c00368", "Galaxy S21"))
	w.graph.AddMethod(oid, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", e2ePhone, "mobile"))
	s := w.student(oid, "Lars Smit")
	s.welcome()

	// A message the keyword matcher cannot place is read by the LLM.
	ai.set(0, "lost_phone", "")
	const lost = "mijn broertje heeft hem geruild voor een fiets"
	if r := intent.MatchIn(intent.Context{Where: intent.AtWelcome}, lost, "nl"); (intent.Context{Where: intent.AtWelcome}).Settled(r) {
		t.Fatalf("the reader places %q itself (%s %.2f): choose a text it cannot place", lost, r.Intent, r.Confidence)
	}
	acts := s.say(lost)
	if step := stepOf(acts); step != "step01" {
		t.Fatalf("free text read by the LLM as lost_phone should start the call route at step 1, got %q:\n%s", step, texts(acts))
	}
	if !strings.Contains(texts(acts), "belfunctie") && !strings.Contains(texts(acts), "bel") {
		t.Logf("step 1 of the call route:\n%s", texts(acts))
	}

	// A "why" question gets a grounded answer, then the current step again.
	ai.set(0, "", "Zo kun je met je telefoon de QR-code op het scherm scannen. Op de telefoon zelf kan dat niet.")
	acts = s.say("waarom moet ik dat op een ander apparaat doen?")
	got := texts(acts)
	if !strings.Contains(got, "QR-code op het scherm scannen") || stepOf(acts) != "step01" {
		t.Errorf("the grounded answer and step 1 again were expected:\n%s", got)
	}

	// Personal data never reaches the LLM.
	sent := ai.captured()
	for _, pd := range []string{"Lars", "Smit", oid, e2ePhoneDigits, "s3333333"} {
		if strings.Contains(sent, pd) {
			t.Errorf("the LLM received personal data %q", pd)
		}
	}

	// With the LLM failing, the conversation goes on on the keyword path.
	for _, status := range []int{http.StatusInternalServerError, http.StatusTooManyRequests} {
		ai.set(status, "", "")
		acts = s.say("gelukt")
		if stepOf(acts) == "" {
			t.Fatalf("after an LLM %d the student got no next step:\n%s", status, texts(acts))
		}
		acts = s.say("hmm tja geen idee eigenlijk")
		if stepOf(acts) == "" || strings.Contains(texts(acts), "upstream") {
			t.Errorf("after an LLM %d an unknown message must repeat the current step without internal detail:\n%s", status, texts(acts))
		}
	}
}
