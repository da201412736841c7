package config

import (
	"strings"
	"testing"
	"time"
)

// TestVoiceCalls: institution.voice_calls is auto (the default), true or
// false - YAML booleans and their usual spellings included - and auto
// ends the call route when Microsoft stops SMS and voice.
func TestVoiceCalls(t *testing.T) {
	for _, c := range []struct {
		value   string
		want    string
		on      bool
		endsAt  bool
		invalid bool
	}{
		{"", "auto", true, true, false},
		{"auto", "auto", true, true, false},
		{"AUTO", "auto", true, true, false},
		{"true", "true", true, false, false},
		{"1", "true", true, false, false},
		{"false", "false", false, false, false},
		{"0", "false", false, false, false},
		{"sometimes", "", false, false, true},
	} {
		clearEnv(t)
		if c.value != "" {
			t.Setenv("MFABOT_INSTITUTION_VOICE_CALLS", c.value)
		}
		cfg, err := Load("")
		if c.invalid {
			if err == nil || !strings.Contains(err.Error(), "institution.voice_calls") {
				t.Errorf("%q: error %v, want one naming institution.voice_calls", c.value, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.value, err)
		}
		if cfg.Institution.VoiceCalls != c.want {
			t.Errorf("%q read as %q, want %q", c.value, cfg.Institution.VoiceCalls, c.want)
		}
		on, end := cfg.Institution.VoiceCallsSetting()
		if on != c.on || !end.IsZero() != c.endsAt {
			t.Errorf("%q: on %v end %v", c.value, on, end)
		}
	}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	if want := time.Date(2027, 2, 1, 0, 0, 0, 0, ams); !MicrosoftVoiceEnd.Equal(want) {
		t.Errorf("Microsoft's end is %v, want %v", MicrosoftVoiceEnd, want)
	}
}
