package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"mfabot/handoff"
	"mfabot/store"
)

// Activity is the part of a Bot Framework activity the bot reads. The
// account types come from msbotbuilder-go's schema package; the fields
// whose schema types are unsound for Teams (value must be an object
// there, entities keep only their type, timestamps fail on odd input)
// are kept raw and read by the helpers below.
type Activity struct {
	Type         schema.ActivityTypes       `json:"type"`
	ID           string                     `json:"id"`
	ServiceURL   string                     `json:"serviceUrl"`
	ChannelID    string                     `json:"channelId"`
	From         schema.ChannelAccount      `json:"from"`
	Conversation schema.ConversationAccount `json:"conversation"`
	Recipient    schema.ChannelAccount      `json:"recipient"`
	MembersAdded []schema.ChannelAccount    `json:"membersAdded"`
	Locale       string                     `json:"locale"`
	Text         string                     `json:"text"`
	ReplyToID    string                     `json:"replyToId"`
	Action       string                     `json:"action"` // installationUpdate: add | remove | ...
	Name         string                     `json:"name"`   // invoke name
	Value        json.RawMessage            `json:"value"`
	Entities     []json.RawMessage          `json:"entities"`
	ChannelData  json.RawMessage            `json:"channelData"`
}

// teamsChannelData is what the bot reads from channelData.
type teamsChannelData struct {
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
}

var errBadActivity = errors.New("bot: malformed activity")

// ParseActivity decodes one activity from a request body. It never
// panics; it fails on invalid JSON, on a non-object body and on fields of
// the wrong JSON type.
func ParseActivity(body []byte) (*Activity, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errBadActivity
	}
	var a Activity
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadActivity, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", errBadActivity)
	}
	return &a, nil
}

func (a *Activity) channelData() teamsChannelData {
	var cd teamsChannelData
	if len(a.ChannelData) > 0 {
		// A channelData of an odd shape simply carries nothing we use.
		_ = json.Unmarshal(a.ChannelData, &cd)
	}
	return cd
}

// TenantID returns the activity's tenant and whether the two places
// Teams puts it agree.
func (a *Activity) TenantID() (string, bool) {
	cd := a.channelData().Tenant.ID
	conv := a.Conversation.TenantID
	switch {
	case cd == "":
		return conv, true
	case conv == "":
		return cd, true
	default:
		return cd, strings.EqualFold(cd, conv)
	}
}

// TeamsChannelID is channelData.channel.id, or else the thread part of
// a channel conversation id ("19:...@thread.tacv2;messageid=...").
func (a *Activity) TeamsChannelID() string {
	if id := a.channelData().Channel.ID; id != "" {
		return id
	}
	if a.Conversation.ConversationType == "channel" || strings.Contains(a.Conversation.ID, "@thread") {
		thread, _, _ := strings.Cut(a.Conversation.ID, ";")
		return thread
	}
	return ""
}

// Platform returns the clientInfo entity's platform (iOS, Android,
// Windows, Mac, Web) or "".
func (a *Activity) Platform() string {
	for _, raw := range a.Entities {
		var e struct {
			Type     string `json:"type"`
			Platform string `json:"platform"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Type == "clientInfo" {
			return e.Platform
		}
	}
	return ""
}

// Personal tells whether the activity comes from a 1:1 chat with the bot
// (not a team channel or a group chat, where everyone reads the answers).
func (a *Activity) Personal() bool {
	return a.Conversation.ConversationType == "personal"
}

// MentionsBot tells whether a mention entity names the bot (the
// recipient). In channels and group chats Teams only delivers messages
// that @mention the bot, but an app with broader permissions gets all.
func (a *Activity) MentionsBot() bool {
	if a.Recipient.ID == "" {
		return false
	}
	for _, raw := range a.Entities {
		var e struct {
			Type      string `json:"type"`
			Mentioned struct {
				ID string `json:"id"`
			} `json:"mentioned"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Type == "mention" && e.Mentioned.ID == a.Recipient.ID {
			return true
		}
	}
	return false
}

// BotAdded tells whether a conversationUpdate adds the bot itself.
func (a *Activity) BotAdded() bool {
	if a.Recipient.ID == "" {
		return false
	}
	for _, m := range a.MembersAdded {
		if m.ID == a.Recipient.ID {
			return true
		}
	}
	return false
}

// ValueObject returns value as an object (Action.Submit data merged with
// the inputs); nil when there is none or it is not an object.
func (a *Activity) ValueObject() map[string]any {
	return jsonObject(a.Value)
}

func jsonObject(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	return m
}

// invokeAction is the value of an adaptiveCard/action invoke.
type invokeAction struct {
	Type string
	Verb string
	Data map[string]any
}

func (a *Activity) invokeAction() invokeAction {
	var v struct {
		Action struct {
			Type string          `json:"type"`
			Verb string          `json:"verb"`
			Data json.RawMessage `json:"data"`
		} `json:"action"`
	}
	if len(a.Value) > 0 {
		_ = json.Unmarshal(a.Value, &v)
	}
	return invokeAction{Type: v.Action.Type, Verb: v.Action.Verb, Data: jsonObject(v.Action.Data)}
}

// turnValue is the value a dialog sees for a card click: the Submit data,
// or for Action.Execute its data with the verb added when absent.
func (a *Activity) turnValue() map[string]any {
	if a.Type == schema.Invoke {
		ia := a.invokeAction()
		v := ia.Data
		if v == nil {
			v = map[string]any{}
		}
		if _, ok := v["verb"]; !ok && ia.Verb != "" {
			v["verb"] = ia.Verb
		}
		return v
	}
	return a.ValueObject()
}

var (
	mentionRe = regexp.MustCompile(`(?is)<at[^>]*>.*?</at>`)
	spaceRe   = regexp.MustCompile(`\s+`)
)

// StripMentions removes <at>Name</at> mentions (and stray tags Teams
// leaves around them) and normalises white space.
func StripMentions(text string) string {
	text = mentionRe.ReplaceAllString(text, " ")
	text = html.UnescapeString(text)
	return strings.TrimSpace(spaceRe.ReplaceAllString(text, " "))
}

// ref builds the conversation reference of a validated activity.
func (a *Activity) ref() store.ConversationRef {
	tenant, _ := a.TenantID()
	return store.ConversationRef{
		ConversationID:   a.Conversation.ID,
		ServiceURL:       a.ServiceURL,
		ChannelID:        a.ChannelID,
		TenantID:         tenant,
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		UserID:           a.From.ID,
		UserAADObjectID:  a.From.AadObjectID,
		UserName:         a.From.Name,
		Locale:           a.Locale,
		ConversationType: a.Conversation.ConversationType,
	}
}

// staffVerbs are the verbs of the staff card.
var staffVerbs = map[string]bool{
	handoff.VerbClaim:   true,
	handoff.VerbResolve: true,
	handoff.VerbReopen:  true,
}

// staffActionOf recognises a click on the staff card: button data with an
// escalation id, a "staffAction" key, or a staff verb (in the data or as
// the Action.Execute verb). looks is true for anything shaped like that,
// complete or not: such a payload is never a student's step answer.
func (a *Activity) staffActionOf() (act handoff.StaffAction, looks bool) {
	var data map[string]any
	execVerb := ""
	if a.Type == schema.Invoke {
		ia := a.invokeAction()
		data, execVerb = ia.Data, ia.Verb
	} else {
		data = a.ValueObject()
	}
	verb := ""
	for _, v := range []string{firstString(data, "staffAction"), firstString(data, "verb"), firstString(data, "action"), execVerb} {
		if staffVerbs[v] {
			verb = v
			break
		}
	}
	idVal, hasID := firstPresent(data, "escalationId", "escalation_id", "escalationID")
	_, marked := data["staffAction"]
	marked = marked || execVerb == handoff.StaffCardVerb
	if !hasID && !marked && verb == "" {
		return handoff.StaffAction{}, false
	}
	return handoff.StaffAction{
		Verb:           verb,
		EscalationID:   toInt64(idVal),
		Note:           firstString(data, "note", "resolutionNote"),
		ActorName:      a.From.Name,
		ActorObjectID:  a.From.AadObjectID,
		ChannelID:      a.TeamsChannelID(),
		ConversationID: a.Conversation.ID,
	}, true
}

func firstPresent(m map[string]any, keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case float64:
		if x > 0 && x < 1<<53 && x == float64(int64(x)) {
			return int64(x)
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err == nil && n > 0 {
			return n
		}
	}
	return 0
}
