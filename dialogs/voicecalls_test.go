package dialogs

import (
	"testing"
	"time"
)

// TestVoiceCallsEndOnMicrosoftsDate: with the call option ending on 1
// February 2027 (institution.voice_calls: auto), a lost phone with a
// registered number goes to the call route up to the last minute of 31
// January and to the service desk from midnight on (Europe/Amsterdam).
func TestVoiceCallsEndOnMicrosoftsDate(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	end := time.Date(2027, 2, 1, 0, 0, 0, 0, ams)
	for _, c := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"31 January 23:58", end.Add(-2 * time.Minute), "step01"},
		{"1 February 00:00", end, StepHandoff},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			s := testSettings
			s.VoiceCallsEnd = end
			h.r = h.newRunner(s)
			h.now = c.at.Add(-10 * time.Second) // two turns of 5 s each
			h.welcome()
			h.press("lost_phone")
			h.wantStep(c.want)
		})
	}
	// No end (voice_calls: true, an own telecom provider): still calls after the date.
	h := newHarness(t, "sam", nil)
	h.now = end.Add(24 * time.Hour)
	h.welcome()
	h.press("lost_phone")
	h.wantStep("step01")
}
