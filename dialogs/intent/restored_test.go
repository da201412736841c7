package intent

import "testing"

func TestRestoredFromBackup(t *testing.T) {
	for _, c := range []struct {
		text, lang string
		restored   bool
	}{
		{"ik heb een back-up teruggezet", "nl", true},
		{"Ik heb een backup teruggezet en nu staat mijn schoolaccount er zonder code", "nl", true},
		{"na het terugzetten van een back-up is mijn schoolaccount weg", "nl", true},
		{"app hersteld uit een back-up, account zegt aanmelden om te herstellen", "nl", true},
		{"restored from backup", "en", true},
		{"I restored my authenticator from a backup", "en", true},
		{"my new iphone restored everything from icloud and now the account says sign in to restore", "en", true},
		{"ik krijg geen melding", "nl", false},
		{"I lost my phone", "en", false},
		{"mijn telefoon is kapot", "nl", false},
	} {
		if got := Restored(c.text); got != c.restored {
			t.Errorf("Restored(%q) = %v, want %v", c.text, got, c.restored)
		}
		if c.restored {
			if r := Match(c.text, c.lang); r.Intent != IntentSigninProblem {
				t.Errorf("Match(%q) = %s %.2f, want signin_problem", c.text, r.Intent, r.Confidence)
			}
		}
	}
}
