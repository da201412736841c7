package staff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"mfabot/store"
)

// The feedback students give on the language model's answers (Teams'
// thumbs up and down under an AI-labelled message), shown on the
// statistics page next to the satisfaction scores.

// feedbackConversations is how many conversations the section lists.
const feedbackConversations = 50

type feedbackView struct {
	Answers, Likes, Dislikes int
	Given                    int // likes and dislikes
	None                     int // answers without a reaction
	LikePct                  int // of the reactions
	Rows                     []feedbackRow
}

type feedbackRow struct {
	Key          string // a pseudonym of the conversation (no Teams id on the page)
	EscalationID int64  // its newest escalation, whose page has the transcript
	Answers      int
	Likes        int
	Dislikes     int
	LastAt       time.Time
	Recent       []store.AnswerFeedbackLine
}

func (s *server) loadFeedback(ctx context.Context, since time.Time) (feedbackView, error) {
	st, err := s.opt.Store.FeedbackStats(ctx, since, feedbackConversations)
	if err != nil {
		return feedbackView{}, err
	}
	v := feedbackView{Answers: st.Answers, Likes: st.Likes, Dislikes: st.Dislikes, Given: st.Likes + st.Dislikes}
	v.None = max(v.Answers-v.Given, 0)
	if v.Given > 0 {
		v.LikePct = (v.Likes*100 + v.Given/2) / v.Given
	}
	for _, c := range st.Conversations {
		v.Rows = append(v.Rows, feedbackRow{Key: conversationKey(c.ConversationID), EscalationID: c.EscalationID,
			Answers: c.Answers, Likes: c.Likes, Dislikes: c.Dislikes, LastAt: c.LastAt, Recent: c.Recent})
	}
	return v, nil
}

// conversationKey names a conversation on the page without its Teams id.
func conversationKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4])
}
