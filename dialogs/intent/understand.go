package intent

import (
	"context"
	"strings"
)

// Classifier reads free text the keyword matcher could not place with
// confidence. The llm package implements it; dialogs.Classifier has the
// same method, so either can be passed.
type Classifier interface {
	Classify(ctx context.Context, text, lang string) (intent string, confidence float64, err error)
}

// Thresholds: a keyword reading at or above KeywordThreshold is taken as
// it is; below it the classifier is asked, and its answer counts only at
// or above LLMThreshold.
const (
	KeywordThreshold = 0.7
	LLMThreshold     = 0.6
)

// Valid reports whether name is one of the closed set.
func Valid(name string) bool {
	for _, in := range AllIntents {
		if string(in) == name {
			return true
		}
	}
	return false
}

// llmMay holds the readings the LLM may give. It may say what a message
// is about (a situation, a question, a wish for help, a person or a
// language); it never answers a yes/no question or a step for the
// student (done, failed), nor stops, restarts, retries or goes back:
// those rest on the student's own words or buttons. human and
// suspicious_prompt are further bound to words in the message.
var llmMay = map[Intent]bool{
	IntentSigninProblem: true, IntentMovePhone: true, IntentNewPhoneSameNumber: true, IntentLostPhone: true,
	IntentSuspiciousPrompt: true, IntentExplain: true, IntentHelp: true, IntentHuman: true,
	IntentLangNL: true, IntentLangEN: true,
}

// situation reports whether in starts or changes a re-setup route.
func situation(in Intent) bool {
	switch in {
	case IntentSigninProblem, IntentMovePhone, IntentNewPhoneSameNumber, IntentLostPhone:
		return true
	}
	return false
}

// Understand reads text: keywords first; when they do not place it (other,
// or below KeywordThreshold) and c is not nil, the classifier is asked. Its answer
// is used only when it is one of the readings the LLM may give (llmMay:
// never done, failed, stop, restart, retry or back) and confident enough;
// otherwise (or on any error) the keyword reading stands. A keyword
// reading of suspicious_prompt is never replaced.
func Understand(ctx context.Context, text, lang string, c Classifier) Reading {
	kw := Match(text, lang)
	if c == nil || placed(kw) || strings.TrimSpace(text) == "" {
		return kw
	}
	return classify(ctx, kw, text, lang, c)
}

// placed reports whether the keyword reading kw stands out of context:
// suspicious_prompt at any confidence (the LLM never replaces it), or
// anything but "other" at or above KeywordThreshold.
func placed(kw Reading) bool {
	return kw.Intent == IntentSuspiciousPrompt || kw.Intent != IntentOther && kw.Confidence >= KeywordThreshold
}

// classify asks c about text and keeps its answer only within the
// guardrails; otherwise kw, the keyword reading, stands.
func classify(ctx context.Context, kw Reading, text, lang string, c Classifier) Reading {
	name, conf, err := c.Classify(ctx, text, lang)
	if err != nil || !Valid(name) || conf < LLMThreshold || conf > 1 {
		return kw
	}
	in := Intent(name)
	if !llmMay[in] {
		// "other", and every reading that answers a question or moves a
		// step (done, failed, stop, restart, retry, back): the keyword
		// reading stands.
		return kw
	}
	a := analyze(normalize(text))
	// The LLM may not turn a message the keywords saw as possibly about
	// unrequested approvals into a re-setup route.
	if situation(in) && cPrompt.in(a) && unrequested(a) {
		return Reading{Text: text, Intent: IntentSuspiciousPrompt, Confidence: kw.Confidence, Source: SourceKeywords}
	}
	// Readings that hand the student to the service desk must rest on
	// words in the message: the LLM cannot start a hand-off (or a
	// security escalation) the student did not ask for.
	switch {
	case in == IntentHuman && !cPersonWord.in(a),
		in == IntentSuspiciousPrompt && !cPrompt.in(a) && !cStrongSusp.in(a) && !cSecurityWord.in(a):
		return kw
	}
	return Reading{Text: text, Intent: in, Confidence: conf, Source: SourceLLM}
}

// cPersonWord: a message read as "human" mentions a person or a way to
// reach one.
var cPersonWord = cues("iemand", "someone", "somebody", "mens*", "person*", "people", "medewerker*", "*desk",
	"servicedesk", "helpdesk", "ict", "=it", "bellen", "=bel", "gebeld", "belletje", "call", "=calls", "contact*", "praten", "spreken", "talk*", "speak*",
	"human", "agent", "staff", "collega", "employee", "support")

// cSecurityWord: words that make a message about unrequested sign-ins
// plausible even without the words for a request.
var cSecurityWord = cues("hack*", "gehackt", "inbraak", "verdacht*", "suspicious", "vreemd*", "strange", "unknown",
	"onbekend*", "phishing", "fraud*", "scam*", "aanval*", "attack*", "inlogpoging*", "attempt*", "locatie", "location")
