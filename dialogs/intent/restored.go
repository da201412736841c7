package intent

// A restored Authenticator: the student put a backup back on a phone, and
// the school account came back with only its name ("Sign in to restore").
// Such a message is a sign-in problem (match.go); Restored tells the
// dialog that it is this one, so it can say what to do.
var cRestored = cues(
	"backup ~ teruggezet", "back up ~ teruggezet", "teruggezet ~ backup", "teruggezet ~ back up",
	"backup ~ terugzetten", "back up ~ terugzetten", "terugzetten ~ backup", "terugzetten ~ back up",
	"backup ~ teruggeplaatst", "back up ~ teruggeplaatst", "backup ~ hersteld", "back up ~ hersteld",
	"hersteld ~ backup", "hersteld ~ back up", "herstel* ~ backup", "herstel* ~ back up",
	"uit ~ backup", "uit ~ back up", "van ~ backup", "van ~ back up",
	"aanmelden ~ om ~ te ~ herstellen", "aanmelden ~ herstellen",
	"restored ~ from", "restore* ~ backup", "restore* ~ back up", "from ~ backup", "from ~ back up",
	"from ~ icloud", "backup ~ restore*", "back up ~ restore*", "recover* ~ from ~ backup",
	"sign ~ in ~ to ~ restore", "sign ~ in ~ restore",
)

// Restored reports whether text says that Authenticator was restored from
// a backup ("ik heb een back-up teruggezet", "restored from backup").
func Restored(text string) bool {
	toks := normalize(text)
	if len(toks) > maxTokens {
		toks = toks[:maxTokens]
	}
	return len(toks) > 0 && cRestored.in(analyze(toks))
}
