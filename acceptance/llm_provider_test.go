package acceptance

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
	"mfabot/internal/msfake"
)

// openAI is an OpenAI-compatible chat-completions server over TLS, as
// OpenAI and Azure OpenAI serve it (both paths). A request with a
// response_format is a classification; mode scripts failures.
type openAI struct {
	srv *httptest.Server

	mu       sync.Mutex
	mode     string // "", "500", "hang", "garbage"
	intent   string
	requests []capturedLLM
}

type capturedLLM struct {
	path, auth, apiKey, body string
}

func newOpenAI(t *testing.T) *openAI {
	f := &openAI{}
	// httptest's TLS servers share one certificate: the CA file of the
	// Microsoft fakes trusts this one too.
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, capturedLLM{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("api-key"), string(body)})
		mode, intent := f.mode, f.intent
		f.mu.Unlock()
		switch mode {
		case "500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"upstream failure","type":"server_error","code":null}}`)
			return
		case "hang":
			<-r.Context().Done()
			return
		case "garbage":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"I think it is lost_phone!!! <html>"}}]`)
			return
		}
		if r.URL.Path != "/v1/chat/completions" && !strings.HasPrefix(r.URL.Path, "/openai/deployments/") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var req struct {
			Model          string          `json:"model"`
			ResponseFormat json.RawMessage `json:"response_format"`
		}
		json.Unmarshal(body, &req)
		content := "Open eerst de website op je laptop, en log daarna in met je schoolaccount."
		if len(req.ResponseFormat) > 0 {
			content = fmt.Sprintf(`{"intent":%q,"confidence":0.93}`, intent)
		}
		w.Header().Set("Content-Type", "application/json")
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

// serveWithOpenAI starts the built binary in production mode with Sam in
// the fake directory and llm.provider openai pointed at a fake OpenAI
// server.
func serveWithOpenAI(t *testing.T) (*microsoft, *openAI, *process) {
	t.Helper()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	ai := newOpenAI(t)
	env := secretEnv()
	env["MFABOT_LLM_API_KEY"] = "sk-acceptance"
	yaml := m.productionYAML(sqliteURL(t), fmt.Sprintf("llm:\n  provider: openai\n  base_url: %s/v1\n  model: gpt-test\n", ai.srv.URL))
	return m, ai, serve(t, m.caFile, yaml, env)
}

func (f *openAI) set(mode, intent string) {
	f.mu.Lock()
	f.mode, f.intent = mode, intent
	f.mu.Unlock()
}

func (f *openAI) captured() []capturedLLM {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]capturedLLM(nil), f.requests...)
}

// TestLLMProviders: with llm.provider openai and azure, a message that
// names no keyword is read by the model (the student is taken to the
// route the model read), the key reaches the model as each provider
// wants it, and no personal data does.
// lostInOwnWords is a lost phone in words the reader cannot place (a
// precondition the tests check: the reader learns, and may come to
// place it).
const lostInOwnWords = "mijn broertje heeft hem geruild voor een fiets"

func TestLLMProviders(t *testing.T) {
	for _, provider := range []string{"openai", "azure"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
			ai := newOpenAI(t)
			const oid = "4c4d5e6f-6666-4a2b-9c3d-5e6f7a8b9c0d"
			m.graph.SetUser(oid, "Lars Smit", "s3333333@student.example.nl", "nl-NL")
			m.graph.AddMethod(oid, graphfake.Authenticator("6803c096-c096-6803-96c0-036896c00368", "Galaxy S21"))
			m.graph.AddMethod(oid, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", "+31 612345678", "mobile"))
			llm := fmt.Sprintf("llm:\n  provider: %s\n  base_url: %s/v1\n  model: gpt-test\n", provider, ai.srv.URL)
			if provider == "azure" {
				llm = fmt.Sprintf("llm:\n  provider: azure\n  base_url: %s/\n  model: mfabot-deployment\n  api_version: \"2024-10-21\"\n", ai.srv.URL)
			}
			env := secretEnv()
			env["MFABOT_LLM_API_KEY"] = "sk-acceptance"
			p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), llm), env)
			s := m.student(t, p, oid, "Lars Smit")
			s.welcome()

			ai.set("", "lost_phone")
			if r := intent.MatchIn(intent.Context{Where: intent.AtWelcome}, lostInOwnWords, "nl"); (intent.Context{Where: intent.AtWelcome}).Settled(r) {
				t.Fatalf("the reader places %q itself (%s %.2f): choose a text it cannot place", lostInOwnWords, r.Intent, r.Confidence)
			}
			acts := s.say(lostInOwnWords)
			if st := stepOf(buttons(acts)); st != "step01" {
				t.Fatalf("the model read lost_phone: the call route should start at step 1, got %q:\n%s", st, texts(acts))
			}
			reqs := ai.captured()
			if len(reqs) == 0 {
				t.Fatal("the model was never asked")
			}
			for _, r := range reqs {
				switch provider {
				case "openai":
					if r.auth != "Bearer sk-acceptance" || r.path != "/v1/chat/completions" {
						t.Errorf("openai request %s with Authorization %q", r.path, r.auth)
					}
				case "azure":
					if r.apiKey != "sk-acceptance" || !strings.HasPrefix(r.path, "/openai/deployments/mfabot-deployment/") {
						t.Errorf("azure request %s with api-key %q", r.path, r.apiKey)
					}
				}
				for _, pd := range []string{"Lars", "Smit", oid, "612345678", "s3333333"} {
					if strings.Contains(r.body, pd) {
						t.Errorf("the model received personal data %q", pd)
					}
				}
			}
		})
	}
}

// TestLLMFailing: the model answers 500, hangs past the bot's deadline,
// or sends garbage. Each time the student still gets an answer (the
// keyword reading: the current step again, with help) and the process
// stays up.
func TestLLMFailing(t *testing.T) {
	t.Parallel()
	m, ai, p := serveWithOpenAI(t)
	s := m.student(t, p, samOID, "Sam de Vries")
	acts := s.welcome()
	acts = s.click(button(buttons(acts), "move_phone"))
	if stepOf(buttons(acts)) != "step01" {
		t.Fatalf("no step 1:\n%s", texts(acts))
	}
	// A question about the step, read without the model: only the
	// answer is asked of it, once per failure.
	const question = "waarom moet ik naar die website?"
	if r := intent.MatchIn(intent.Context{Where: intent.AtStep, Step: "step01"}, question, "nl"); r.Intent != intent.IntentExplain || r.Confidence < intent.KeywordThreshold {
		t.Fatalf("the question must be read as explain without the model for this test to mean anything; read %s %.2f", r.Intent, r.Confidence)
	}
	for _, mode := range []string{"500", "hang", "garbage"} {
		ai.set(mode, "")
		before := len(ai.captured())
		acts := s.say(question)
		got := texts(acts)
		if len(acts) == 0 || stepOf(buttons(acts)) != "step01" {
			t.Errorf("LLM %s: the student did not get the current step again:\n%s", mode, got)
		}
		if strings.Contains(got, "upstream") || strings.Contains(got, "html") {
			t.Errorf("LLM %s: internal detail reached the student:\n%s", mode, got)
		}
		if len(ai.captured()) == before {
			t.Errorf("LLM %s: the model was not asked, so the failure was not exercised", mode)
		}
		p.mustRun("survive the LLM " + mode)
	}
}

// TestLLMInContext: in the middle of a step, a message that names no
// keyword is not "Dat begrijp ik niet": the built binary asks the model,
// which reads a question about the step, and the student gets the
// model's grounded answer. A bare "ja" at a step that asks nothing is
// not "done": the bot asks which button it means, without the model.
func TestLLMInContext(t *testing.T) {
	t.Parallel()
	const vague = "mijn broer zit naast me"
	if r := intent.MatchIn(intent.Context{Where: intent.AtStep, Step: "step01"}, vague, "nl"); r.Intent != intent.IntentOther {
		t.Fatalf("the message must name no keyword for this test to mean anything; keywords read %s", r.Intent)
	}
	m, ai, p := serveWithOpenAI(t)
	s := m.student(t, p, samOID, "Sam de Vries")
	acts := s.click(button(buttons(s.welcome()), "move_phone"))
	if stepOf(buttons(acts)) != "step01" {
		t.Fatalf("no step 1:\n%s", texts(acts))
	}

	ai.set("", "explain")
	before := len(ai.captured())
	acts = s.say(vague)
	if got := texts(acts); !strings.Contains(got, "Open eerst de website op je laptop") || strings.Contains(got, "begrijp ik niet") {
		t.Fatalf("the student should get the model's answer about the step, got:\n%s", got)
	}
	reqs := ai.captured()[before:]
	if len(reqs) != 2 || !strings.Contains(reqs[0].body, "response_format") || strings.Contains(reqs[1].body, "response_format") {
		t.Fatalf("want one classification then one answer from the model, got %d requests", len(reqs))
	}

	ai.set("", "done")
	before = len(ai.captured())
	acts = s.say("ja")
	if st := stepOf(buttons(acts)); st != "" && st != "step01" {
		t.Fatalf("a bare 'ja' moved step 1 on to %s:\n%s", st, texts(acts))
	}
	if got := texts(acts); !strings.Contains(got, "als hij gelukt is") {
		t.Fatalf("a bare 'ja' at a step that asks nothing should ask whether the step worked, got:\n%s", got)
	}
	if n := len(ai.captured()) - before; n != 0 {
		t.Fatalf("the model was asked %d times about a bare 'ja' the bot answers itself", n)
	}
	p.mustRun("answer in context")
}
