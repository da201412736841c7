package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"mfabot/bot/connector"
	"mfabot/dialogs"
	"mfabot/dialogs/texts"
	"mfabot/store"
)

// Teams' conventions for AI answers: the AI-generated label with the
// answer's sources as citations, the feedback buttons under it, and the
// message/submitAction invoke a click on them sends; suggested actions.

var metricFeedback = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "mfabot_bot_answer_feedback_total",
	Help: "Feedback on grounded answers (message/submitAction) by result: like, dislike, unchanged (a redelivered click), unknown_answer (ignored), refused (malformed), error.",
}, []string{"result"})

// aiEntity is the schema.org Message entity that labels a message as
// AI-generated and carries its citations.
type aiEntity struct {
	Type           string    `json:"type"`
	AtType         string    `json:"@type"`
	Context        string    `json:"@context"`
	AdditionalType []string  `json:"additionalType"`
	Citation       []aiClaim `json:"citation,omitempty"`
}

type aiClaim struct {
	Type       string     `json:"@type"`
	Position   int        `json:"position"`
	Appearance aiDocument `json:"appearance"`
}

type aiDocument struct {
	Type     string `json:"@type"`
	Name     string `json:"name"`
	Abstract string `json:"abstract"`
	URL      string `json:"url,omitempty"`
}

// feedbackLoop turns on Teams' own feedback buttons and form (not the
// older feedbackLoopEnabled, which must not be set as well).
var feedbackLoop = map[string]any{"feedbackLoop": map[string]string{"type": "default"}}

// markAIGenerated labels a as the language model's, cites its sources
// (referenced in the text as [1], [2], as Teams shows them) and adds the
// feedback buttons.
func markAIGenerated(a *connector.Activity, ai *dialogs.AIContent) {
	e := aiEntity{
		Type:           "https://schema.org/Message",
		AtType:         "Message",
		Context:        "https://schema.org",
		AdditionalType: []string{"AIGeneratedContent"},
	}
	var refs []string
	for _, c := range ai.Citations {
		if c.Name == "" {
			continue
		}
		n := len(e.Citation) + 1
		e.Citation = append(e.Citation, aiClaim{Type: "Claim", Position: n, Appearance: aiDocument{
			Type: "DigitalDocument", Name: c.Name, Abstract: cutRunes(c.Abstract, dialogs.MaxAbstract), URL: c.URL,
		}})
		refs = append(refs, fmt.Sprintf("[%d]", n))
	}
	if len(refs) > 0 {
		a.Text = strings.TrimRight(a.Text, " \n") + " " + strings.Join(refs, " ")
	}
	raw, _ := json.Marshal(e)
	a.Entities = append(a.Entities, raw)
	a.ChannelData = feedbackLoop
}

// cutRunes cuts s to at most n characters.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// suggestedActions turns the reply's suggestions into imBack actions, at
// most the three Teams shows.
func suggestedActions(sg []dialogs.Suggestion) *connector.SuggestedActions {
	var acts []connector.CardAction
	for _, s := range sg {
		if len(acts) == dialogs.MaxSuggestions {
			break
		}
		if s.Title == "" || s.Value == "" {
			continue
		}
		acts = append(acts, connector.CardAction{Type: connector.ActionIMBack, Title: s.Title, Value: s.Value})
	}
	if len(acts) == 0 {
		return nil
	}
	return &connector.SuggestedActions{Actions: acts}
}

// apologyReply is the apology for a failed turn. It asks the student to
// type "medewerker" without a card: that is offered as a suggested
// action too.
func (s *Server) apologyReply(locale string) dialogs.Reply {
	lang := texts.Lang(locale)
	r := dialogs.Reply{Text: s.apology(locale)}
	title, ok1 := dialogs.Text(dialogs.Settings{}, lang, "button.human", nil)
	value, ok2 := dialogs.Text(dialogs.Settings{}, lang, "suggest.human", nil)
	if ok1 && ok2 {
		r.Suggest = []dialogs.Suggestion{{Title: title, Value: value}}
	}
	return r
}

// recordAnswer keeps a sent answer's activity id, so that a like or
// dislike on it can be tied to it.
func (s *Server) recordAnswer(ctx context.Context, log *slog.Logger, ref store.ConversationRef, id string, ai *dialogs.AIContent) {
	if id == "" {
		// A 202 without an id: the message went out, but a click on its
		// feedback buttons cannot be tied to it.
		log.Warn("answer sent without an activity id; its feedback will be ignored")
		return
	}
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.o.Store.RecordAnswer(ctx, store.Answer{ConversationID: ref.ConversationID, ActivityID: id, Step: ai.Step, SentAt: s.o.Now()}); err != nil {
		log.Error("answer not recorded; its feedback will be ignored", "err", err)
	}
}

// Feedback bounds.
const (
	// maxFeedbackField bounds the raw feedback field (Teams sends the
	// form's input as JSON text); a longer one is refused whole.
	maxFeedbackField = 8 << 10
	// feedbackTimeout bounds the store write: Teams gives up on an
	// invoke after about 5 s.
	feedbackTimeout = 3 * time.Second
)

// feedback is a validated message/submitAction feedback invoke.
type feedback struct {
	reaction  string
	text      string // as the student typed it (not yet redacted)
	replyToID string
}

var errFeedback = errors.New("bot: malformed feedback invoke")

// parseFeedback validates a message/submitAction invoke: actionName
// "feedback", a reaction like or dislike, a feedback text of bounded size
// (a JSON text with feedbackText, as Teams' default form sends it, or
// plain text), and the answer's id in replyToId.
func parseFeedback(a *Activity) (feedback, string, error) {
	var v struct {
		ActionName  string `json:"actionName"`
		ActionValue struct {
			Reaction string          `json:"reaction"`
			Feedback json.RawMessage `json:"feedback"`
		} `json:"actionValue"`
	}
	if len(bytes.TrimSpace(a.Value)) == 0 || json.Unmarshal(a.Value, &v) != nil {
		return feedback{}, "no_value", errFeedback
	}
	if v.ActionName != "feedback" {
		return feedback{}, "action", errFeedback
	}
	if v.ActionValue.Reaction != store.ReactionLike && v.ActionValue.Reaction != store.ReactionDislike {
		return feedback{}, "reaction", errFeedback
	}
	if strings.TrimSpace(a.ReplyToID) == "" || len(a.ReplyToID) > 256 {
		return feedback{}, "reply_to", errFeedback
	}
	raw := bytes.TrimSpace(v.ActionValue.Feedback)
	if len(raw) > maxFeedbackField {
		return feedback{}, "too_long", errFeedback
	}
	text, ok := feedbackText(raw)
	if !ok {
		return feedback{}, "feedback", errFeedback
	}
	return feedback{reaction: v.ActionValue.Reaction, text: text, replyToID: a.ReplyToID}, "", nil
}

// feedbackText reads the feedback field: absent or null, a string (JSON
// text such as {"feedbackText":"..."}, or the text itself), or an object
// with feedbackText. A feedbackText that is not a string is refused.
func feedbackText(raw []byte) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if t, isObject, ok := formText([]byte(s)); isObject {
			return t, ok
		}
		return s, true
	}
	t, _, ok := formText(raw)
	return t, ok
}

// formText reads feedbackText from a JSON object; isObject is false when
// raw is no JSON object at all.
func formText(raw []byte) (text string, isObject, ok bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return "", false, false
	}
	v, present := m["feedbackText"]
	if !present || v == nil {
		return "", true, true
	}
	t, isString := v.(string)
	return t, true, isString
}

// handleFeedback stores a like or dislike on one of the conversation's
// answers and answers the invoke at once (200, empty body). A malformed
// invoke is refused with 400 and changes nothing; one about a message
// that is not an answer of this conversation (another conversation's,
// or none of the bot's answers) is answered 200 and ignored, so that
// nothing is learnt from it. The same click delivered again changes
// nothing.
func (s *Server) handleFeedback(w http.ResponseWriter, r *http.Request, log *slog.Logger, a *Activity) {
	fb, reason, err := parseFeedback(a)
	if err != nil {
		metricFeedback.WithLabelValues("refused").Inc()
		log.Warn("feedback invoke refused", "reason", reason)
		respond(w, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), feedbackTimeout)
	defer cancel()
	changed, err := s.o.Store.SetAnswerFeedback(ctx, store.AnswerFeedback{
		ConversationID: a.Conversation.ID,
		ActivityID:     fb.replyToID,
		Reaction:       fb.reaction,
		Text:           dialogs.FeedbackText(fb.text, a.From.Name),
		At:             s.o.Now(),
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		metricFeedback.WithLabelValues("unknown_answer").Inc()
		log.Warn("feedback on a message that is not an answer of this conversation ignored")
	case err != nil:
		metricFeedback.WithLabelValues("error").Inc()
		log.Error("feedback not stored", "err", err)
		respond(w, http.StatusServiceUnavailable)
		return
	case !changed:
		metricFeedback.WithLabelValues("unchanged").Inc()
		log.Info("feedback delivered again; unchanged")
	default:
		metricFeedback.WithLabelValues(fb.reaction).Inc()
		log.Info("feedback stored", "reaction", fb.reaction, "with_text", fb.text != "")
	}
	respond(w, http.StatusOK)
}
