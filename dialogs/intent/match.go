package intent

import (
	"strings"
	"sync"
)

// SourceKeywords and SourceLLM are the values of Reading.Source.
const (
	SourceKeywords = "keywords"
	SourceLLM      = "llm"
)

// whole maps a complete short message (normalized) to its intent: the
// typed equivalents of every button and command.
var whole = map[string]Intent{}

func init() {
	add := func(in Intent, ss ...string) {
		for _, s := range ss {
			whole[strings.Join(normalize(s), " ")] = in
		}
	}
	add(IntentDone, "gelukt", "is gelukt", "het is gelukt", "gelukt hoor", "ja gelukt", "gelukt!", "klaar", "ben klaar",
		"ik ben klaar", "gedaan", "heb ik gedaan", "dat heb ik gedaan", "done", "im done", "all done", "finished",
		"ok gedaan", "ja", "jep", "jup", "yes", "yep", "yup", "top", "prima",
		"volgende", "next", "doorgaan", "verder", "ga verder", "continue", "het werkt", "werkt", "it works",
		"works", "success", "got it", "klopt", "ja hoor", "yes done", "did it", "i did it", "check", "gelukt dank je", "afgerond", "sorted", "klaar is kees", "all good",
		"thanks it worked", "it worked", "that worked", "dat werkte", "volgende stap", "next step")
	add(IntentFailed, "lukt niet", "het lukt niet", "lukt me niet", "niet gelukt", "werkt niet", "het werkt niet",
		"gaat niet", "mislukt", "nee", "neen", "nope", "no", "fail", "failed", "it doesnt work", "doesnt work",
		"it does not work", "not working", "didnt work", "it didnt work", "error", "fout", "foutmelding",
		"lukt nog steeds niet", "still not working", "nope didnt work", "nee lukt niet", "no it doesnt work", "👎",
		"it didnt", "didnt", "did not", "nee niet", "no it didnt", "helaas niet", "nee helaas")
	add(IntentExplain, "uitleg", "meer uitleg", "leg uit", "leg het uit", "uitleggen", "explain", "explanation",
		"more info", "meer info", "info", "hoe dan", "how", "hoe", "waarom", "why", "wat", "what", "huh", "?", "??",
		"wat bedoel je", "what do you mean", "i dont understand", "snap het niet", "ik snap het niet",
		"ik begrijp het niet", "explain please", "uitleg graag", "hoe doe ik dat", "how do i do that", "wat nu")
	add(IntentHelp, "help", "hulp", "help me", "helpen", "menu", "opties", "options", "wat kun je", "wat kan je",
		"what can you do", "what are my options", "waar ben jij voor", "waar ben je voor",
		"help please", "ik heb een vraag", "een vraag", "i have a question", "vraagje", "question", "help!", "ik heb hulp nodig", "i need help", "wat kan ik hier", "hulp nodig")
	add(IntentStop, "stop", "stoppen", "stop maar", "ik stop", "cancel", "annuleren", "annuleer", "quit", "exit",
		"einde", "laat maar", "never mind", "nevermind", "hou op", "bye", "doei", "ik wil stoppen", "stop please", "forget it", "nu even niet", "not now", "laat maar zitten", "nvm")
	add(IntentRestart, "opnieuw", "opnieuw beginnen", "begin opnieuw", "start over", "restart", "reset",
		"opnieuw starten", "vanaf het begin", "from the start", "start again", "overnieuw", "over nieuw",
		"begin again", "from the beginning", "helemaal opnieuw", "alles opnieuw", "start opnieuw", "van voor af aan", "van voren af aan", "from scratch")
	add(IntentRetry, "nog eens", "nog een keer", "nogmaals", "check again", "opnieuw controleren",
		"controleer opnieuw", "opnieuw checken", "try again", "retry", "again", "probeer opnieuw",
		"probeer nog eens", "kijk nog eens", "refresh", "vernieuwen", "controleer", "check nog eens",
		"nog eens checken", "nog eens kijken", "check it again", "recheck", "re check", "nog een keer kijken",
		"opnieuw kijken", "kijk opnieuw", "look again")
	add(IntentBack, "terug", "ga terug", "vorige", "vorige stap", "back", "go back", "previous", "previous step",
		"stap terug", "een stap terug", "terug naar vorige stap", "step back", "one step back", "go back please")
	add(IntentHuman, "medewerker", "een medewerker", "talk to a person", "person", "human", "mens", "persoon",
		"servicedesk", "service desk", "helpdesk", "help desk", "agent", "operator", "talk to someone",
		"iemand spreken", "echt persoon", "een echt persoon", "echte persoon", "contact", "bellen",
		"talk to a human", "real person", "medewerker graag", "medewerker aub", "mag ik een medewerker")
	add(IntentLangEN, "english", "english please", "in english", "engels", "in het engels", "engels graag",
		"engels aub", "english pls", "en", "eng", "english plz", "in english please", "can we speak english")
	// "who started it?" answered in two words
	add(IntentSuspiciousPrompt, "niet ik", "ik niet", "not me", "wasnt me", "was ik niet", "dat was ik niet",
		"nee niet ik", "no not me", "nope not me", "not mine", "niet van mij", "was niet ik", "dat ben ik niet",
		"thats not me", "that wasnt me", "niet door mij", "not by me")
	add(IntentLangNL, "nederlands", "dutch", "in het nederlands", "nederlands graag", "nederlands aub",
		"in dutch", "nl", "dutch please", "in dutch please", "kan het in het nederlands")
}

// greetings are whole messages that only say hello: read as other (small
// talk), and answered by the dialog with what the bot can do (Greeting).
var greetings = map[string]bool{}

func init() {
	for _, s := range []string{"hoi", "hallo", "hi", "hello", "hey", "goedemorgen", "goedemiddag", "goedenavond",
		"good morning", "good afternoon", "good evening", "goedendag", "goeiedag", "dag", "hallo daar", "hi there",
		"hello there", "hey there", "hoi hoi", "yo", "hallo bot", "hey bot", "hi bot", "hello bot", "hoii", "heyy",
		"hallo allemaal", "goeiemorgen", "morgen", "moi", "hee", "hej"} {
		greetings[strings.Join(normalize(s), " ")] = true
	}
}

// Greeting reports whether text only says hello ("hoi", "good morning 👋").
func Greeting(text string) bool {
	return greetings[strings.Join(normalize(text), " ")]
}

// Cues for the situations and the commands inside longer messages.
var (
	cPhone = cues("telefoon*", "*telefoon", "tel", "mobiel*", "gsm", "toestel", "phone*", "*phone", "iphone*",
		"android", "samsung", "galaxy", "pixel", "huawei", "xiaomi", "oneplus", "cellphone", "mobile",
		"06", "simkaart", "smartphone")
	cNew = cues("nieuw*", "nieuwe", "nieuw", "new", "andere", "ander", "another", "other", "different", "gekocht", "bought",
		"vervangen", "replaced", "replace*", "gewisseld", "wissel*", "verwissel*", "changing", "=change", "=changed", "upgrade*", "geupgraded", "switched", "overgestapt", "got ~ new",
		"cadeau", "gekregen", "just ~ got", "=got ~ a", "heb ~ sinds", "inruil*", "trade* ~ in")
	cMove = cues("overzet*", "overgezet", "zetten ~ over", "zet ~ over", "transfer*", "move", "moving",
		"migrat*", "verplaats*", "verhuiz*", "overstap*", "meenemen", "over ~ naar", "switch*", "set up ~ on",
		"instellen ~ op", "op ~ nieuwe", "on ~ new",
		"in ~ plaats ~ van", "instead ~ of",
		"verhuis*", "daarop ~ zetten", "erop ~ zetten", "daarop ~ wil", "use ~ his", "use ~ hers", "restore ~ on ~ my ~ new", "to ~ my ~ new ~ phone")
	cOld  = cues("oude", "oud", "old", "vorige", "previous", "scherm", "screen", "toestel")
	cApp  = cues("authenticat*", "*authenticator", "app", "mfa", "2fa", "account", "microsoft")
	cSame = cues("zelfde", "hetzelfde", "same", "behouden", "gehouden", "houden", "kept", "keep", "blijft", "ongewijzigd", "unchanged", "meegenomen", "gelijk", "gebleven", "identical", "niet veranderd", "not changed", "didnt change", "niet gewijzigd", "stayed")
	// cSameNumPhrase: the SIM card went into the new phone.
	cSameNumPhrase = cues("oude ~ simkaart", "old ~ sim*", "oud ~ nummer", "=oud ~ 06", "sim* ~ in ~ nieuwe", "sim* ~ in ~ new", "sim* ~ in ~ mijn ~ nieuwe", "sim* ~ overgezet",
		"moved ~ sim*", "sim* ~ zit ~ in", "oude ~ nummer", "old ~ number", "mijn ~ nummer ~ nog",
		"still ~ have ~ my ~ number", "nummer ~ nog ~ steeds", "put ~ sim*", "same ~ sim*", "zelfde ~ sim*", "sim* ~ into", "same ~ line")
	cNum   = cues("nummer", "telefoonnummer", "*nummer", "number", "numbers", "06", "sim*", "nr")
	cLostW = cues("kwijt", "verloren", "verloor", "gestolen", "stolen", "lost", "broken", "broke", "kapot",
		"stuk", "gevallen", "dropped", "cracked", "gebarsten", "defect", "dead", "waterschade", "water",
		"smashed", "beroofd", "gejat", "gepikt", "verkocht", "sold", "ingeleverd", "traded", "weggegeven",
		"doet ~ niks ~ meer", "gaat ~ niet ~ aan", "wont ~ turn ~ on", "doesnt ~ turn ~ on", "scherm ~ zwart",
		"screen ~ black", "niet ~ meer ~ aan", "no longer have", "dont have ~ old", "heb ~ niet meer",
		"niet meer in bezit", "geen toegang ~ oude", "no access ~ old", "kapot gegaan", "stuk gegaan", "beschadigd",
		"damaged", "misplaced", "nergens", "nowhere", "repair*", "reparatie", "gerepareerd",
		"telefoon ~ is ~ weg", "oude ~ is ~ weg", "toestel ~ is ~ weg", "mobiel ~ is ~ weg", "phone ~ is ~ gone",
		"phone ~ gone", "old ~ one ~ is ~ gone", "oude ~ werkt ~ niet", "oude ~ doet ~ het ~ niet",
		"old ~ doesnt ~ work", "old ~ not ~ working", "old ~ one ~ broke*", "old ~ phone ~ died", "died", "kwijt*", "geen ~ telefoon ~ meer", "no ~ phone ~ anymore",
		"dont ~ have ~ a ~ phone", "heb ~ geen ~ telefoon", "shatter*", "gebroken", "dood", "verdronken", "wc", "toilet", "cant find my phone", "vind ~ telefoon ~ niet", "its ~ gone", "it ~ is ~ gone", "canal", "river", "rivier", "zee", "sea", "pool", "stukgevallen", "kapotgevallen",
		"overleden", "dood", "=start ~ niet ~ meer ~ op", "gaat ~ niet ~ meer ~ aan", "wont ~ turn ~ on", "doesnt ~ turn ~ on", "run ~ over", "ran ~ over", "drowned", "verdronken", "in ~ het ~ water", "in ~ the ~ water", "in ~ de ~ wc", "in ~ the ~ toilet",
		"in ~ pieces", "aan ~ gruzelementen", "in ~ stukken", "bootloop*", "bricked", "afgepakt", "ingenomen", "confiscated", "taken ~ away",
		"laten ~ liggen", "laat ~ liggen", "left ~ my ~ phone", "took ~ my ~ phone", "pakte ~ mijn", "no ~ idea ~ where ~ my", "weet ~ niet ~ waar ~ mijn", "police", "politie", "never ~ getting ~ it ~ back")
	cPrompt = cues("*melding*", "pushbericht*", "*verzoek*", "*aanvra*", "request*", "prompt*", "notificat*", "notif*",
		"goedkeur*", "approv*", "popup*", "pop ~ up*", "push*", "*sign in request*", "keur ~ goed",
		"approve", "accept", "goedkeuren", "inlogpoging*", "login attempt*", "sign in attempt*", "pogingen",
		"attempts", "bevestig*", "confirm*",
		"vraagt ~ of ~ ik ~ wil", "asks ~ if ~ i ~ want", "asking ~ me ~ to", "getal ~ om ~ in ~ te ~ typen", "number ~ to ~ type", "type ~ to ~ sign",
		"probeer ~ je ~ je ~ aan", "are ~ you ~ trying ~ to ~ sign", "goed ~ te ~ keuren", "logins", "inlogs",
		"vraagt ~ om ~ ja", "asks ~ for ~ yes", "laat ~ een ~ getal ~ zien", "shows ~ a ~ number")
	// cUnreqStrong: the student says they did not start it.
	cUnreqStrong = cues(
		"niet ~ aangevraagd", "niet ~ gevraagd", "niet ~ zelf", "heb ~ niet ~ ingelogd",
		"niet ~ aan ~ het ~ inloggen", "was ~ niet ~ aan ~ het", "heb ~ niet ~ aangemeld", "niet ~ herken*",
		"dont ~ recogni*", "do ~ not ~ recogni*", "didnt ~ recogni*", "niet van mij", "niet ~ gedaan",
		"niet ~ gestart", "niet ~ aan ~ het ~ aanmelden", "zomaar", "random*", "vreemd*", "onbekend*", "verdacht*",
		"raar", "rare", "uit ~ het ~ niets", "out ~ of ~ nowhere", "didnt ~ request", "didnt ~ ask",
		"didnt ~ start", "didnt ~ initiate", "didnt ~ trigger", "didnt ~ sign", "didnt ~ log",
		"did ~ not ~ request", "did ~ not ~ start", "not ~ me", "wasnt me", "werent me", "not mine",
		"not ~ trying", "wasnt ~ trying", "wasnt ~ logging", "wasnt ~ signing", "unexpected*", "unsolicited",
		"unknown", "strange", "weird", "suspicious", "someone", "somebody", "iemand", "hack*", "gehackt",
		"doe ~ dat ~ niet", "doe ~ niks", "doe ~ niets", "never ~ asked", "zonder dat ik", "without me",
		"terwijl ik niet", "i havent", "not ~ requested", "not ~ asked",
		"nooit ~ aangevraagd", "never ~ requested", "locatie", "location", "ander ~ land", "another ~ country",
		"buitenland", "abroad", "=vandaan", "where ~ from", "weet ~ niet ~ waar", "vertrouw*", "trust*",
		"not ~ using", "niet ~ gebruik*", "didnt ~ trigger", "did ~ not ~ expect", "didnt ~ expect",
		"niet ~ verwacht", "probeer ~ niet", "didnt ~ make", "not ~ mine", "niet ~ om ~ gevraagd",
		"=nie ~ aangevraagd", "=nie ~ heb ~ aangevraagd", "never ~ did", "i ~ never ~ did", "nooit ~ gedaan",
		// it came back after the student denied it
		"weer ~ een ~ en ~ weer", "again ~ and ~ again", "komt ~ er ~ weer ~ een", "another ~ one ~ and ~ another",
		"never ~ made", "nooit ~ gemaakt", "niet ~ zelf ~ gedaan",
		"not ~ initiated", "niet ~ geinitieerd", "niet ~ zelf ~ gestart", "not ~ started ~ by ~ me",
		"wasnt ~ mine", "was ~ not ~ mine", "werent ~ mine", "niet ~ van ~ mij ~ was",
		"ik ~ niet ~ deed", "ik ~ niet ~ heb ~ gedaan", "wasnt ~ my ~ login", "not ~ my ~ login", "niet ~ mijn ~ inlog*",
		"yes ~ by ~ mistake", "ja ~ per ~ ongeluk", "per ~ ongeluk ~ ja", "niet ~ zelf ~ deed", "i ~ didnt ~ do", "i ~ did ~ not ~ do")
	// cUnreqWeak: how often or when requests come; not enough on its own
	// next to a sentence about notifications that do not arrive.
	cUnreqWeak = cues(
		"allemaal", "*nacht*", "night", "nachts", "keep ~ getting", "keeps ~ coming", "keeps ~ sending",
		"keeps ~ asking", "keeps ~ popping", "de ~ hele ~ tijd", "all ~ the ~ time", "steeds", "nooit", "spammed",
		"constant*", "continu", "telkens", "spam*", "bombard*", "tientallen", "dozens", "when ~ not",
		"terwijl ~ ik", "while ~ i", "blijft ~ maar", "keep ~ being", "being ~ asked", "blijft ~ geven",
		"even ~ though", "hoewel", "opeens", "suddenly", "achter ~ elkaar", "in ~ a ~ row", "spamming",
		"after ~ each ~ other", "in ~ bed", "slapen", "sleeping", "asleep", "steeds ~ meldingen",
		"steeds ~ verzoeken", "blijf ~ krijgen", "blijven ~ komen", "blijft ~ vragen", "lots of", "heel veel",
		"loads of", "meerdere", "multiple", "continuous*", "pinging", "=ping*", "keeps ~ pinging", "blijft ~ pingen",
		"scared", "bang", "afraid", "worried", "ongerust",
		// many in a short time, all dismissed
		"in ~ een ~ uur", "binnen ~ een ~ uur", "in ~ an ~ hour", "within ~ an ~ hour", "per ~ minuut", "elke ~ minuut",
		"every ~ minute", "a ~ minute", "alles ~ weggeklikt", "allemaal ~ weggeklikt", "dismissed ~ them ~ all", "swiped ~ them ~ away",
		// busy elsewhere, away from a computer, a device that is off, a place,
		// requests that come back or are someone else's
		"gamen", "gaming", "in ~ de ~ les", "in ~ class", "at ~ work", "op ~ mijn ~ werk", "niet ~ eens ~ achter",
		"niet ~ achter ~ mijn", "niet ~ achter ~ mn", "not ~ even ~ at", "not ~ at ~ my", "no ~ laptop", "geen ~ laptop",
		"laptop ~ uit", "laptop ~ is ~ off", "pc ~ uit", "pc ~ is ~ off", "computer ~ uit", "came ~ back", "kwam ~ terug",
		"keeps ~ lighting", "lighting ~ up", "lights ~ up", "licht ~ op", "sign ~ in ~ from", "login ~ from",
		"log ~ in ~ from", "request ~ from", "vanuit", "arent ~ mine", "isnt ~ mine", "zijn ~ niet ~ van ~ mij",
		"log ~ niet ~ in", "terwijl ~ mn", "terwijl ~ mijn", "nonstop", "non ~ stop", "zonder ~ te ~ stoppen",

		"verzoek ~ uit", "verzoeken ~ uit", "melding ~ uit",
		"inlogpoging ~ uit", "attempt ~ from", "poging ~ uit",
		// asleep, on the road, far away
		"woke ~ me", "maakte ~ me ~ wakker", "werd ~ wakker", "woke ~ up ~ to", "op ~ de ~ bus", "in ~ de ~ bus",
		"on ~ the ~ bus", "in ~ de ~ trein", "on ~ the ~ train", "ziekenhuis", "hospital", "on ~ holiday",
		"op ~ vakantie", "havent ~ used", "niet ~ gebruikt", "kaart ~ toont", "map ~ shows", "map ~ in ~ it")
	cNoPrompt = cues("geen ~ push*", "geen ~ verzoek*", "no ~ request*", "never ~ shows", "vraagt ~ niks", "vraagt ~ niets", "geen ~ melding*", "geen ~ notific*", "no ~ notific*", "no ~ push*", "not ~ getting",
		"dont ~ get", "doesnt ~ arrive", "dont ~ arrive", "krijg ~ geen", "komt ~ niet", "komen ~ niet",
		"niet ~ binnen", "never ~ arriv*", "dont ~ receive", "not ~ receiv*", "ontvang ~ geen",
		"zie ~ geen", "no ~ longer ~ get", "stopped ~ getting", "arent ~ coming", "not ~ coming",
		"niet ~ meer ~ krijg", "krijg ~ niks", "krijg ~ niets", "krijg niet", "krijg ze niet", "krijg die niet",
		"krijg hem niet", "krijg ~ nooit", "komt ~ niks", "komt ~ niets", "never ~ comes", "never ~ come", "never ~ shows", "nothing ~ shows", "komt ~ pas", "duurt ~ lang",
		"takes ~ long", "delay*", "vertraag*", "te ~ laat", "too ~ late", "gebeurt ~ niks", "gebeurt ~ niets",
		"nothing ~ happens", "staan ~ uit", "=off", "uitgeschakeld", "disabled", "verschijnt ~ niet", "doesnt ~ appear",
		"not ~ appear*", "doesnt ~ show", "not ~ show*", "get ~ nothing", "receive ~ nothing", "nothing ~ comes",
		"wont ~ show", "wont ~ come", "wont ~ appear",
		"nooit ~ komt", "komt ~ nooit", "never ~ come*")
	cStrongSusp = cues("gehackt", "hacked", "hacker*", "hack", "phishing", "iemand ~ probeert ~ in",
		"iemand ~ in ~ mijn ~ account", "someone ~ trying ~ to", "someone ~ is ~ trying", "someone ~ my ~ account",
		"somebody ~ trying", "iemand anders ~ inloggen", "iemand anders ~ account", "someone else",
		"account ~ overgenomen", "compromised", "gecompromitteerd", "mfa fatigue", "inbraak", "fraude", "fraud",
		"oplichter*", "scam*", "iemand ~ inlog*", "iemand ~ aanmeld*", "iemand ~ mijn ~ account", "iemand ~ met ~ mijn",
		"someone ~ log*", "someone ~ sign*", "somebody ~ log*", "somebody ~ sign*", "was ~ ik ~ niet", "dat ~ was ~ ik ~ niet",
		"wasnt ~ me", "was ~ not ~ me", "niet ~ van ~ mij", "not ~ from ~ me", "never ~ start*", "never ~ initiat*",
		"nooit ~ gestart", "nooit ~ aangevraagd", "never ~ requested", "never ~ asked", "accidentally ~ approv*", "per ~ ongeluk ~ goedgekeurd", "per ~ ongeluk ~ geaccepteerd",
		"per ~ ongeluk ~ op ~ goedkeuren", "approved ~ by ~ mistake",
		// denied again and again: someone keeps trying (MFA fatigue)
		"per ~ ongeluk ~ toegestaan", "per ~ ongeluk ~ op ~ ja", "accidentally ~ allowed", "accidentally ~ accepted",
		"accidentally ~ tapped", "accidentally ~ pressed", "accidentally ~ hit",
		// mails or messages that someone signed in
		"er ~ is ~ ingelogd", "er ~ is ~ aangemeld", "mail ~ dat ~ er", "mails ~ dat ~ er", "new ~ sign ~ in ~ to ~ your",
		"unusual ~ sign ~ in", "ongebruikelijke ~ aanmelding", "new ~ login ~ to ~ your",
		"geef ~ de ~ code ~ door", "code ~ door ~ via", "via ~ deze ~ link", "wordt ~ geblokkeerd", "word ~ geblokkeerd",
		"will ~ be ~ blocked", "will ~ be ~ suspended", "account ~ suspended", "sms ~ met ~ een ~ link", "text ~ with ~ a ~ link",
		"denied ~ times", "declined ~ times", "rejected ~ times", "geweigerd ~ keer", "keer ~ geweigerd",
		"keer ~ op ~ weigeren", "times ~ on ~ deny", "by ~ mistake ~ approv*", "iemand ~ wachtwoord", "someone ~ password", "niet ~ zelf ~ aangevraagd",
		"die ~ ik ~ niet ~ heb ~ aangevraagd", "that ~ i ~ didnt ~ request", "i ~ did ~ not ~ request",
		"didnt ~ request ~ them", "ik ~ niet ~ zelf ~ heb",
		"who ~ is ~ trying", "wie ~ probeert", "mail ~ met ~ een ~ link", "email ~ with ~ a ~ link", "mail ~ with ~ a ~ link",
		"wie ~ logt", "phished", "gephisht", "weird ~ site", "rare ~ site", "vage ~ site", "avoid ~ suspension", "account ~ te ~ redden")
	cSigninVerb = cues("verificatie", "verification", "inloggen", "inlog*", "ingelogd", "aanmelden", "aangemeld", "login", "log in",
		"logging in", "log into", "sign in", "signin", "signing in", "sign into", "signed in", "log me in",
		"logon", "log on", "aanmelding", "inloggegevens")
	cTrouble = cues("werkt ~ niet", "doet ~ het ~ niet", "doet ~ niks", "doet ~ niets", "stopped ~ working",
		"doesnt ~ work", "not ~ working", "dont ~ work", "probleem", "problemen", "problem*", "issue*",
		"error", "fout*", "kapot", "broken", "gaat ~ mis", "goes ~ wrong", "lukt ~ niet", "kan ~ niet",
		"cant", "cannot", "niet ~ meer", "no ~ longer", "anymore", "weg", "verdwenen", "gone", "missing",
		"leeg", "empty", "raar", "vreemd", "vast", "stuck", "crash*", "hangt", "loopt ~ vast", "geblokkeerd",
		"blocked", "locked", "buitengesloten", "geen ~ toegang", "no ~ access", "geen ~ melding*",
		"no ~ notific*", "krijg ~ geen", "not ~ getting", "dont ~ get", "niet ~ binnen", "komt ~ niet", "help",
		"stopped", "stopt", "gestopt", "reageert ~ niet", "not ~ respond*", "doesnt ~ respond", "vraagt ~ niks",
		"vraagt ~ niets", "asks ~ nothing", "isnt ~ working", "arent ~ working", "wont ~ work", "=isnt", "=broken",
		"does ~ nothing", "afgewezen", "geweigerd", "rejected", "verlopen", "expired", "wrong ~ every ~ time",
		"ongeldig", "invalid", "incorrect",
		"afgekeurd", "onjuist*", "wrong ~ number", "klopt ~ nooit", "timed ~ out", "gebeurt ~ er ~ niks", "blijft ~ laden", "keeps ~ loading", "komt ~ er ~ niks", "zegt ~ niks")
	cAccountGone = cues("actie ~ vereist", "action ~ required", "actie ~ nodig", "account ~ weg", "account ~ verdwenen", "account ~ kwijt", "account ~ missing",
		"account ~ gone", "account ~ disappeared", "accounts ~ weg", "no ~ accounts", "geen ~ account*",
		"app ~ leeg", "app ~ is ~ empty", "empty ~ app", "lege ~ app", "opnieuw ~ geinstalleerd",
		"reinstall*", "herinstall*", "backup", "back-up", "herstel*", "restore*", "geherinstalleerd",
		"verwijderd ~ en ~ opnieuw", "deleted ~ the ~ app", "app ~ verwijderd", "account ~ niet ~ in ~ de ~ app",
		"zie ~ account ~ niet", "account ~ niet ~ meer", "account ~ not ~ in", "dont ~ see ~ account",
		"cant ~ see ~ account", "account ~ staat ~ er ~ niet", "account ~ vanished", "account ~ deleted",
		"account ~ removed", "account ~ verwijderd")
	cMatching = cues("number ~ matching", "nummer ~ matching", "welk ~ nummer", "which ~ number", "welk ~ getal",
		"which ~ digits", "twee ~ cijfers", "two ~ digit*", "getal ~ invullen", "nummer ~ invullen",
		"enter ~ a ~ number", "type ~ number", "getal", "cijfers", "for ~ a ~ number", "vraagt ~ om ~ een ~ nummer",
		"vraagt ~ om ~ een ~ getal", "enter ~ number", "type ~ a ~ number", "asks ~ number", "zie ~ een ~ getal",
		"see ~ a ~ number", "number ~ on ~ the ~ screen")
	cHuman = cues("medewerker", "echt* ~ persoon", "een ~ mens", "met ~ iemand ~ praten", "met ~ iemand ~ spreken",
		"iemand ~ spreken", "iemand ~ bellen", "talk ~ to ~ a ~ person", "talk ~ to ~ someone", "talk ~ to ~ a ~ human",
		"speak ~ to ~ someone", "speak ~ to ~ a ~ person", "speak ~ with", "real ~ person", "human", "servicedesk",
		"service ~ desk", "helpdesk", "help ~ desk", "live ~ agent", "contact ~ opnemen", "get ~ in ~ touch",
		"contact ~ with", "contact ~ met", "doorverbinden", "doorverbonden", "iemand ~ van ~ ict", "ict ~ bellen",
		"someone ~ from ~ ict", "someone ~ from ~ it", "call ~ the ~ desk", "persoonlijk ~ contact", "bel ~ me", "call ~ me",
		"kunt ~ u ~ bellen", "kun ~ je ~ me ~ bellen", "kan ~ iemand ~ mij ~ bellen", "can ~ someone ~ call", "=mensen", "real ~ people", "echte ~ mens*", "aan ~ de ~ lijn", "on ~ the ~ phone ~ with",
		"iemand ~ aan ~ de ~ telefoon",
		"connect ~ me ~ to", "=mens", "mens ~ aub", "mens ~ graag", "meekijken", "mee ~ kijken", "real ~ person", "human ~ please",
		"someone ~ i ~ can ~ email", "iemand ~ mailen", "email ~ someone", "mail ~ iemand")
	cRestart = cues("van ~ voor ~ af ~ aan", "van ~ voren ~ af ~ aan", "opnieuw ~ beginnen", "begin* ~ opnieuw", "start ~ over", "from ~ the ~ start", "vanaf ~ het ~ begin",
		"helemaal ~ opnieuw", "restart", "start ~ again", "from ~ the ~ beginning", "overnieuw", "opnieuw ~ starten",
		"terug ~ naar ~ het ~ begin", "back ~ to ~ the ~ start", "scratch", "opnieuw ~ doen", "reset ~ alles", "reset ~ everything", "alles ~ resetten", "do ~ it ~ all ~ again", "back ~ to ~ the ~ beginning", "alles ~ opnieuw",
		"reset ~ dit ~ gesprek", "reset ~ this ~ chat", "reset ~ the ~ conversation", "reset ~ het ~ gesprek")
	cRetry = cues("nog ~ eens ~ controle*", "nog ~ eens ~ check*", "check ~ again", "controleer ~ opnieuw",
		"opnieuw ~ control*", "opnieuw ~ check*", "kijk ~ nog ~ eens", "kijk ~ nog ~ een ~ keer", "try ~ again",
		"probeer ~ opnieuw", "probeer ~ het ~ nog", "opnieuw ~ proberen", "retry", "check ~ it ~ again",
		"look ~ again", "nog ~ een ~ keer ~ kijken", "nog ~ eens ~ kijken", "can ~ you ~ check", "kun ~ je ~ controleren",
		"kun ~ je ~ checken", "nog ~ eens ~ proberen", "controleer ~ nog", "check ~ once ~ more", "once ~ more",
		"nog ~ een ~ keer ~ controle*", "check ~ nog ~ een", "kijken ~ of ~ het ~ gelukt", "check ~ if ~ it ~ worked",
		"nog ~ een ~ keer ~ proberen", "probeer ~ het ~ nog ~ een ~ keer", "try ~ it ~ again")
	cBack = cues("ga ~ terug", "vorige ~ stap", "previous ~ step", "go ~ back", "stap ~ terug", "step ~ back",
		"terug ~ naar ~ stap", "back ~ to ~ step", "terug ~ naar ~ de ~ vorige", "back ~ to ~ the ~ previous",
		"een ~ stap ~ terug", "=teruggaan", "=terug ~ gaan", "=ga ~ terug",
		"terug ~ naar ~ vorige", "terug ~ naar ~ de ~ vorige", "back ~ to ~ the ~ previous",
		"=terug ~ ik ~ zit", "verkeerde ~ pagina", "wrong ~ page")
	cStop = cues("wil ~ stoppen", "ik ~ stop", "stop ~ maar", "laat ~ maar", "never ~ mind", "nevermind", "cancel",
		"annuleer*", "quit", "want ~ to ~ stop", "hou ~ maar ~ op", "geen ~ hulp ~ meer ~ nodig", "dont ~ need ~ help",
		"niet ~ meer ~ nodig", "not ~ needed ~ anymore", "stop ~ the ~ chat", "stop ~ this", "stop ~ dit", "stoppen ~ met",
		"done ~ with", "klaar ~ mee", "no ~ thanks", "nee ~ bedankt", "nee ~ dank", "hoef ~ niet ~ meer", "hoeft ~ niet ~ meer",
		"hoef ~ geen", "dont ~ want ~ to ~ continue", "wil ~ niet ~ verder", "wil ~ niet ~ meer",
		"dont ~ want ~ to ~ anymore", "stop ~ ermee", "=ermee ~ stoppen", "stop ~ the ~ conversation",
		"stop ~ het ~ gesprek", "end ~ the ~ chat", "end ~ the ~ conversation", "beeindig*", "stop ~ de ~ chat",
		"forget ~ it", "kappen", "laat ~ ook ~ maar", "ik ~ kap ~ ermee", "no ~ longer ~ need",
		"=stop ~ ik ~ ga", "ik ~ ga ~ slapen", "=stop ~ i ~ m ~ going")
	cDone = cues("gelukt", "werkt ~ weer", "werkt ~ nu", "works ~ again", "works ~ now", "working ~ now",
		"working ~ again", "it ~ worked", "het ~ werkte", "it ~ works", "klaar", "done", "finished", "gedaan",
		"opgelost", "solved", "fixed", "succeeded", "success*", "got ~ it ~ working", "all ~ set", "alles ~ werkt",
		"is ~ toegevoegd", "was ~ added", "staat ~ erin", "staat ~ er ~ nu", "i ~ see ~ it ~ now", "ik ~ zie ~ hem",
		"heb ~ ik ~ gedaan", "i ~ did ~ it", "did ~ that", "=worked", "that ~ worked", "its ~ working", "is ~ working ~ now", "yes ~ working",
		"its ~ there", "zie ~ het ~ staan", "i ~ see ~ it", "staat ~ erop", "staat ~ er ~ op", "see ~ the ~ account",
		"zie ~ het ~ account", "zie ~ mijn ~ account", "zie ~ account ~ staan", "account ~ in ~ the ~ app ~ now")
	cNeg = cues("=niet", "=nie", "=geen", "=not", "=no", "=dont", "=doesnt", "=didnt", "=cant", "=cannot", "=wont",
		"=isnt", "=never", "=nooit", "=nope", "=nee", "=havent", "=hasnt", "=wasnt", "=arent", "=niks", "=niets",
		"=nothing", "=nog")
	cFailed = cues("kom ~ er ~ niet ~ uit", "kom ~ niet ~ uit", "lukt ~ niet", "niet ~ gelukt", "werkt ~ niet", "doet ~ het ~ niet", "doet ~ niks",
		"doet ~ niets", "doesnt ~ work", "didnt ~ work", "does ~ not ~ work", "not ~ working", "dont ~ work",
		"kan ~ niet", "cant", "cannot", "can ~ not", "gaat ~ niet", "gaat ~ mis", "mislukt", "failed",
		"fails", "error", "fout*", "stuck", "vast", "kom ~ niet ~ verder", "niet ~ verder", "nothing ~ happens",
		"gebeurt ~ niks", "gebeurt ~ niets", "zie ~ geen", "zie ~ niet", "dont ~ see", "do ~ not ~ see",
		"cant ~ find", "vind ~ niet", "vind ~ geen", "no ~ option", "geen ~ optie", "not ~ there", "staat ~ er ~ niet",
		"niet ~ te ~ vinden", "is ~ er ~ niet", "isnt ~ there", "wont ~ let", "geeft ~ een ~ fout", "not ~ possible",
		"niet ~ mogelijk", "lukt ~ me ~ niet", "krijg ~ het ~ niet", "cant ~ get", "wrong", "verkeerd", "nee",
		"niet ~ open*", "doesnt ~ open", "wont ~ open", "opent ~ niet", "nothing ~ happen*", "blijft ~ laden",
		"keeps ~ loading", "laadt ~ niet", "wordt ~ niet", "niet ~ gescand", "doesnt ~ scan", "wont ~ scan",
		"scant ~ niet", "werkt ~ niet ~ mee", "grijs", "grey", "gray", "disabled", "uitgeschakeld",
		"kan ~ niet ~ klikken", "cant ~ click", "niet ~ aanklikbaar", "verschijnt ~ niet", "doesnt ~ appear", "not ~ appear*", "black ~ screen", "zwart ~ scherm", "verlopen",
		"expired", "went ~ wrong", "ging ~ mis", "something ~ wrong", "iets ~ mis", "niet ~ voor ~ elkaar", "reageert ~ niet", "not ~ respond*", "doesnt ~ respond")
	cExplain = cues("uitleg", "leg ~ uit", "explain*", "wat ~ bedoel", "what ~ do ~ you ~ mean", "wat ~ betekent",
		"what ~ does ~ mean", "what ~ does", "waarom", "why", "hoe ~ moet", "how ~ do ~ i", "how ~ should",
		"wat ~ is", "what ~ is", "snap ~ niet", "begrijp ~ niet", "dont ~ understand", "meer ~ info*",
		"more ~ info*", "wat ~ moet ~ ik", "what ~ should ~ i", "where ~ do ~ i", "where ~ can ~ i",
		"waar ~ vind", "waar ~ moet", "waar ~ staat", "welke", "which", "hoe ~ werkt", "how ~ does", "is ~ het ~ veilig",
		"is ~ it ~ safe", "mag ~ ik", "can ~ i", "kan ~ ik", "moet ~ ik", "do ~ i ~ need", "hoe ~ lang", "how ~ long",
		"wat ~ als", "what ~ if", "wat ~ gebeurt", "what ~ happens", "verschil", "difference", "nodig")
	cHelp = cues("wat ~ kun ~ je", "wat ~ kan ~ je", "wat ~ kan ~ deze ~ bot", "what ~ can ~ you ~ do",
		"what ~ can ~ this ~ bot", "hoe ~ werkt ~ deze ~ bot", "hoe ~ werkt ~ dit", "how ~ does ~ this ~ work",
		"hulp ~ nodig", "need ~ help", "help ~ me", "kun ~ je ~ me ~ helpen", "can ~ you ~ help", "kan ~ je ~ me ~ helpen",
		"wie ~ ben ~ jij", "who ~ are ~ you", "wat ~ doe ~ jij", "what ~ do ~ you ~ do", "waar ~ kun ~ je ~ mee ~ helpen",
		"what ~ can ~ you ~ help", "help", "bot ~ for", "what ~ is ~ this ~ bot", "wat ~ is ~ dit ~ voor",
		"waar ~ is ~ deze ~ bot ~ voor", "what ~ are ~ you", "wat ~ ben ~ jij", "what ~ is ~ this ~ for",
		"wat ~ kan ~ ik ~ hier", "wat ~ kan ~ ik ~ vragen", "what ~ can ~ i ~ ask", "how ~ can ~ you ~ help",
		"wat ~ doet ~ deze ~ bot", "what ~ does ~ this ~ bot", "deze ~ bot", "this ~ bot", "ik ~ heb ~ een ~ vraag",
		"i ~ have ~ a ~ question", "=vraagje",
		"wat ~ kan ~ jij", "waar ~ ben ~ jij ~ voor", "waar ~ is ~ deze ~ bot ~ voor", "welke ~ opties", "what ~ are ~ you ~ for", "what ~ options",
		"=opties", "=commands", "wat ~ kan ~ ik ~ hier", "wat ~ zijn ~ de ~ opties", "what ~ are ~ the ~ options", "waar ~ moet ~ ik ~ beginnen")
	cLangEN  = cues("english", "engels", "engelse", "inglish", "englisch")
	cLangNL  = cues("nederlands", "dutch", "nederlandse", "nederlans")
	cLangReq = cues("please", "pls", "plz", "graag", "aub", "alsjeblieft", "alstublieft", "in", "speak", "spreek",
		"praat", "talk", "switch", "continue", "verder", "can", "kan", "kun", "could", "want", "wil", "liever",
		"prefer", "only", "alleen", "niet", "geen", "dont", "doesnt", "no", "not", "language", "taal")
	cLangNeg      = cues("geen", "niet", "dont", "do ~ not", "no", "not", "cant", "kan ~ niet", "doesnt", "spreek ~ geen")
	cQuestionWord = cues("waarom", "why", "hoe", "how", "wat", "what", "waar", "where", "wanneer", "when",
		"welke", "which", "wie", "who", "kan", "kun", "can", "could", "moet", "should", "is", "mag", "does", "do", "?")
)

// maxTokens bounds the words the matcher reads: what a student means is
// in the first lines, and the matcher's time stays small for a 28 KB
// message.
const maxTokens = 300

// Match reads text out of context (mfabot understand): MatchIn
// Anywhere. lang, the conversation's language, is not needed to read a
// message and is accepted for symmetry with Understand. The reading's
// Source is "keywords": no LLM was asked.
func Match(text, lang string) Reading { return MatchIn(Context{}, text, lang) }

func match(a *analysis) (Intent, float64) {
	toks := a.toks
	if len(toks) == 0 {
		return IntentOther, 0
	}
	allDigits := true
	for _, t := range toks {
		if strings.Trim(t, "0123456789") != "" {
			allDigits = false
			break
		}
	}
	if allDigits {
		return IntentOther, 0.1
	}
	joined := strings.Join(toks, " ")
	if in, ok := whole[joined]; ok {
		return in, 1
	}
	// The same with polite or filler words around it ("stop alsjeblieft",
	// "ik wil terug", "ok thanks").
	if core := stripFiller(toks); len(core) > 0 && len(core) < len(toks) {
		if in, ok := whole[strings.Join(core, " ")]; ok {
			return in, 0.95
		}
	}

	// 1. Approval requests the student did not start: a possible attack.
	// This wins over everything, so such a message never leads into the
	// re-setup steps.
	prompt, noPrompt := cPrompt.in(a), cNoPrompt.in(a)
	if cStrongSusp.in(a) {
		return IntentSuspiciousPrompt, 0.95
	}
	if prompt && cUnreqStrong.in(a) {
		return IntentSuspiciousPrompt, 0.9
	}
	if prompt && cUnreqWeak.in(a) && !noPrompt {
		return IntentSuspiciousPrompt, 0.85
	}
	// Calls, numbers or codes the student did not ask for, and requests
	// while they were not signing in.
	if (prompt || cUnreqThing.in(a) || cSigninVerb.in(a)) && cNotStarted.in(a) || cAskedForCode.in(a) {
		return IntentSuspiciousPrompt, 0.85
	}
	// Someone else (a caller, a chat, an email, a friend) wants a code,
	// a number or a QR scan from the app, or an approval: phishing. Not a
	// student asking someone for help ("kan iemand me de code sturen").
	if cThirdParty.in(a) && (cTheyAsk.in(a) || cScanThing.in(a)) && (cCodeThing.in(a) || prompt || cScanThing.in(a)) && !cStudentAsks.in(a) {
		return IntentSuspiciousPrompt, 0.85
	}

	// 2. An explicit language choice in a short message.
	if en, nl := cLangEN.in(a), cLangNL.in(a); en && nl && len(toks) <= 14 && cLangReq.in(a) {
		// "engels aub, mijn nederlands is niet zo goed": the one asked for first
		for i := range toks {
			if cLangEN.at(a, i) {
				return IntentLangEN, 0.85
			}
			if cLangNL.at(a, i) {
				return IntentLangNL, 0.85
			}
		}
	}
	if len(toks) <= 8 {
		en, nl := cLangEN.in(a), cLangNL.in(a)
		neg := cLangNeg.in(a)
		if en != nl && (len(toks) <= 2 || cLangReq.in(a)) {
			switch {
			case en && !neg, nl && neg:
				return IntentLangEN, 0.9
			default:
				return IntentLangNL, 0.9
			}
		}
	}

	// 3. A short message that is a button label with a typo.
	if in, ok := fuzzyWhole(joined); ok {
		return in, 0.85
	}

	// 4. Explicit commands inside a sentence.
	if cHuman.in(a) {
		return IntentHuman, 0.85
	}
	if cRestart.in(a) {
		return IntentRestart, 0.85
	}
	if cRetry.in(a) {
		return IntentRetry, 0.8
	}
	if cBack.in(a) {
		return IntentBack, 0.8
	}
	failed := cFailed.in(a)
	if cDone.in(a) && !cNeg.in(a) && !failed {
		return IntentDone, 0.8
	}
	if cStop.in(a) {
		return IntentStop, 0.8
	}

	// 5. The situations.
	phone := cPhone.in(a)
	newp := cNew.in(a)
	old := cOld.in(a)
	lostW := cLostW.in(a)
	same := cSame.in(a) && cNum.in(a) || cSameNumPhrase.in(a)
	app := cApp.in(a)
	move := cMove.in(a)
	switch {
	case same && (phone || newp || lostW), newp && cOldGone.in(a) && cNumOrSim.in(a):
		// "esim overgezet naar mn nieuwe iphone, de oude is gewist"
		return IntentNewPhoneSameNumber, 0.9
	case lostW && (phone || old):
		return IntentLostPhone, 0.9
	case cRestored.in(a): // restored.go: a restored Authenticator
		return IntentSigninProblem, 0.85
	case newp && phone:
		return IntentMovePhone, 0.85
	case move && (phone || app):
		return IntentMovePhone, 0.8
	}
	signin := cSigninVerb.in(a)
	switch {
	case signin && (cTrouble.in(a) || app):
		return IntentSigninProblem, 0.85
	case !signin && cStepTalk.in(a) && cFailed.in(a):
		return IntentFailed, 0.75
	case cAccountGone.in(a) && app, app && cTrouble.in(a) && !failedOnly(a):
		return IntentSigninProblem, 0.8
	case prompt && noPrompt:
		return IntentSigninProblem, 0.8
	case cMatching.in(a) && (app || prompt || signin):
		return IntentSigninProblem, 0.7
	case signin:
		return IntentSigninProblem, 0.65
	case cMatchingStrong.in(a) && !cQuestionStart.at(a, 0), prompt && cMatchingStrong.in(a):
		return IntentSigninProblem, 0.6
	case lostW && len(toks) <= 4 && !prompt:
		return IntentLostPhone, 0.6
	case newp && (app || cNum.in(a)) && !cQuestionWord.in(a) && !prompt:
		// weak evidence; never a re-setup route for a message about
		// requests or notifications
		return IntentMovePhone, 0.6
	}

	if cOffTopic.in(a) && !app && !phone && !prompt && !signin {
		return IntentOther, 0.6
	}

	// 6. Answers and questions about the current step. A question that
	// starts with "why"/"what should I" is asked about the step, even when
	// it contains "can't".
	if cExplainStrong.in(a) && cQuestionStart.at(a, 0) {
		return IntentExplain, 0.7
	}
	// A sentence about something outside the bot's subject ("mijn wifi werkt niet", "wat
	// is het weer morgen") is not an answer to the step.
	onTopic := cDomain.in(a) || cDeictic.in(a)
	offTopicOwn := ownOffTopic(a)
	if failed && !offTopicOwn {
		return IntentFailed, 0.8
	}
	if cHelp.in(a) && !cExplainStrong.in(a) {
		return IntentHelp, 0.75
	}
	if cExplainStrong.in(a) || cExplain.in(a) && onTopic {
		return IntentExplain, 0.7
	}
	if (cDone.in(a) || cDoneWeak.in(a)) && !cNeg.in(a) {
		return IntentDone, 0.6
	}
	if cQuestionWord.in(a) && onTopic {
		return IntentExplain, 0.5
	}
	return IntentOther, 0.2
}

// cUnreqThing: what can come without the student asking: a call, a
// number to type, a code.
var cUnreqThing = cues("gebeld", "belde", "belt", "called", "call", "calls", "getal", "nummer", "number", "code*",
	"sms*", "texts", "hekje", "pound", "gedrukt", "pressed", "tapped", "=verzoekjes", "inlogpoging*", "attempt*",
	"loggen")

// cThirdParty, cTheyAsk, cCodeThing: someone else asks for what the app
// shows (phishing); cStudentAsks: the student asks someone.
var (
	cThirdParty = cues("iemand", "someone", "somebody", "guy", "meisje", "jongen", "girl", "roommate", "huisgenoot",
		"vriend*", "friend*", "teacher", "docent", "leraar", "helpdesk", "namens", "pretend*", "doet ~ alsof",
		"zegt ~ dat ~ ie", "says ~ he", "says ~ she", "claims", "insta*", "snap*", "discord", "whatsapp", "klassenapp",
		"dmed", "texted", "mail*", "email*", "school ~ it", "it ~ department", "it ~ support", "from ~ it", "ict", "belde ~ me", "called ~ me", "call ~ from", "scammer", "caller",
		"recruiter", "linkedin", "klas*", "classmate", "robot", "onbekend ~ nummer", "unknown ~ number",
		"groepsapp", "group ~ chat", "klasgenoot", "ex", "man ~ aan ~ de ~ telefoon", "poster", "=text", "got ~ a ~ text",
		"guy", "=he*", "=hij ~ zei", "zei ~ dat ~ hij", "zegt ~ dat ~ hij", "microsoft ~ was", "from ~ microsoft", "van ~ microsoft",
		"got ~ a ~ call", "a ~ call ~ asking", "kreeg ~ een ~ telefoontje", "werd ~ gebeld",
		"a ~ man", "een ~ man", "a ~ woman", "een ~ vrouw", "een ~ meneer", "een ~ mevrouw", "on ~ the ~ phone ~ told",
		"aan ~ de ~ telefoon ~ zei")
	cTheyAsk = cues("vroeg", "vraagt", "asked", "asking", "asks", "wants", "wil ~ de", "wilde", "stuurde", "sent",
		"send ~ him", "send ~ her", "send ~ them", "sturen", "doorsturen", "doorgeven", "voorlezen", "read ~ out",
		"scan ~ deze", "scan ~ this", "zei ~ scan", "told ~ me ~ to", "told ~ him ~ to", "told ~ her ~ to",
		"told ~ them ~ to", "zei ~ dat ~ ik ~ moest", "zei ~ dat ~ hij ~ moest", "zei ~ dat ~ ze ~ moest", "approve ~ the", "keur ~ goed", "saying ~ approve",
		"met ~ een ~ link", "with ~ a ~ link", "bevestig ~ uw",
		"via ~ een ~ link", "on ~ their ~ site", "op ~ hun ~ site", "code ~ invullen", "enter ~ the ~ code", "unless ~ i",
		"tenzij ~ ik", "als ~ ik ~ de ~ code", "als ~ ik ~ hem", "druk ~ op ~ ja", "druk ~ even ~ op", "press ~ yes", "tap ~ yes",
		"ik ~ stuur ~ je", "stuur ~ mij", "stuur ~ me", "send ~ me", "gave ~ my", "gave ~ it", "gaf", "gegeven", "bood ~ aan",
		"zegt ~ dat ~ ik", "zei ~ dat ~ ik", "says ~ i", "said ~ i", "needs ~ the", "wants ~ me", "wil ~ dat ~ ik",
		"moest ~ drukken", "reply ~ with", "for ~ my ~ code", "call ~ asking", "asking ~ for", "stuur",
		"moest ~ verifi*", "must ~ verify", "had ~ to ~ verify")
	cScanThing   = cues("scan*", "screenshot*", "goedkeuren", "approve", "op ~ ja", "=ja ~ drukken", "press ~ yes")
	cCodeThing   = cues("code*", "cijfers", "digits", "getal", "getallen", "nummer", "number", "qr*", "6", "=zes")
	cStudentAsks = cues("kan ~ iemand", "can ~ someone", "could ~ someone", "kan ~ er ~ iemand", "wil ~ iemand",
		"moet ~ iemand", "need ~ someone", "can ~ somebody")
)

// cOldGone: the old phone was wiped, reset, given away or traded in;
// cNumOrSim: the number (or its SIM) moved along.
var (
	cOldGone = cues("gewist", "wiped", "reset", "gereset", "teruggezet", "fabrieksinstellingen", "factory", "ingeruild",
		"traded", "trade ~ in", "weggegeven", "gave ~ it ~ away", "gave ~ my ~ old", "gave ~ it ~ to", "verkocht", "sold",
		"went ~ back ~ to ~ the ~ shop", "teruggebracht", "returned", "oude ~ is ~ weg", "old ~ one ~ is ~ gone",
		"old ~ phone ~ is ~ gone", "old ~ phones ~ gone", "staat ~ niks ~ meer")
	cNumOrSim = cues("nummer", "number", "06", "sim*", "esim*", "sms*", "simkaart")
	// cOffTopic: subjects that are not the bot's (read as other, not as a
	// question about a step).
	cOffTopic = cues("huiswerk", "homework", "chatgpt", "wifi", "youtube", "rooster", "schedule", "love ~ me",
		"who ~ made", "wie ~ heeft ~ jou", "=ek", "=wk", "voetbal", "football", "netflix", "weer ~ morgen", "weather")
)

// cNotStarted: the student was not signing in or did nothing.
var cNotStarted = cues(
	// nothing open to sign in to, doing nothing
	"geen ~ website ~ open", "no ~ website ~ open", "nothing ~ open", "niks ~ open", "niets ~ open",
	"geen ~ inlogscherm", "no ~ login ~ screen", "no ~ sign ~ in ~ screen", "laptop ~ dicht", "laptop ~ closed",
	"laptop ~ was ~ closed", "zonder ~ laptop", "without ~ a ~ laptop", "without ~ my ~ laptop",
	"im ~ not ~ doing ~ anything", "typed ~ nothing", "uit ~ zichzelf", "by ~ itself",
	"terwijl ~ ik ~ niet", "terwijl ~ ik ~ niks", "terwijl ~ ik ~ niets", "niks ~ gedaan",
	"niets ~ gedaan", "niks ~ aangevraagd", "niets ~ aangevraagd", "=deed ~ niks", "=deed ~ niets",
	"niet ~ aan ~ het ~ inlog*", "niet ~ aan ~ het ~ aanmeld*", "niet ~ heb ~ gestuurd", "niet ~ gestuurd",
	"was ~ het ~ niet ~ zelf", "niet ~ zelf", "=not ~ logging", "=not ~ signing", "wasnt ~ signing", "wasnt ~ logging",
	"=im ~ not ~ log*", "=im ~ not ~ sign*", "never ~ asked", "didnt ~ ask", "uit ~ rusland", "uit ~ een ~ ander",
	"ander ~ land", "another ~ country", "niet ~ aangevraagd", "niet ~ aanvraag", "niet ~ heb ~ aangevraagd",
	// not trying to sign in, not knowing where it comes from, changed nothing
	"probeer ~ nergens", "niet ~ geprobeerd", "zat ~ niet ~ eens", "niet ~ eens ~ achter", "not ~ even ~ at",
	"no ~ im ~ not", "no ~ i ~ am ~ not", "weet ~ niet ~ waarvan", "waar ~ komt ~ dit", "where ~ is ~ this ~ coming",
	"where ~ does ~ this ~ come", "niet ~ heb ~ gedaan", "=niet ~ doe", "heb ~ niks ~ veranderd", "didnt ~ change ~ anything",
	"probeer ~ helemaal ~ niet", "ben ~ helemaal ~ niet ~ aan", "didnt ~ do ~ anything", "did ~ nothing",
	"did ~ not ~ do", "never ~ did", "nooit ~ gedaan", "niet ~ heb ~ gedaan",
	"als ~ ik ~ niks ~ doe", "when ~ i ~ do ~ nothing",
	// touched nothing, had not even opened the laptop or pressed sign in,
	// more requests than tries
	"niks ~ aangeraakt", "niets ~ aangeraakt", "nothing ~ touched", "didnt ~ touch", "did ~ not ~ touch",
	"didnt ~ do ~ nothing", "niet ~ eens ~ open", "not ~ even ~ open*", "nog ~ niet ~ eens ~ op", "niet ~ eens ~ op ~ inlog*",
	"hadnt ~ even", "had ~ not ~ even", "had ~ nog ~ niet ~ eens", "only ~ tried ~ once", "maar ~ een ~ keer ~ geprobeerd",
	"maar ~ 1 ~ keer ~ geprobeerd", "maar ~ één ~ keer",
	// the computer was off or closed ("staat uit" is also said of notifications, so not in cUnreqWeak)
	"laptop ~ staat ~ uit", "computer ~ staat ~ uit", "pc ~ staat ~ uit", "laptop ~ dicht", "laptop ~ is ~ closed",
	"laptop ~ was ~ closed", "laptop ~ was ~ off", "computer ~ was ~ off", "laptop ~ is ~ off", "laptop ~ uit",
	// asleep: in the night, woke up to them
	"midden ~ in ~ de ~ nacht", "middle ~ of ~ the ~ night", "woke ~ up ~ to", "woke ~ up ~ with", "werd ~ wakker",
	"wakker ~ van", "wakker ~ met", "om ~ 3 ~ uur ~ s ~ nachts", "s ~ nachts", "at ~ 3 ~ am", "while ~ i ~ was ~ asleep")

// cAskedForCode: someone asked the student for a code or an approval.
var cAskedForCode = cues("vroeg ~ om ~ de ~ code", "vroeg ~ naar ~ de ~ code", "vraagt ~ om ~ de ~ code", "asked ~ for ~ the ~ code",
	"asked ~ me ~ for ~ the ~ code", "asked ~ me ~ to ~ approve", "vroeg ~ me ~ om ~ goed ~ te ~ keuren", "vroeg ~ om ~ goedkeuring",
	// someone wants the number or code from the app (phishing)
	"getal ~ doorsturen", "nummer ~ doorsturen", "code ~ doorsturen", "asked ~ me ~ for ~ the ~ number",
	"asked ~ for ~ the ~ number", "vroeg ~ om ~ het ~ nummer", "vroeg ~ om ~ het ~ getal", "vroeg ~ naar ~ het ~ nummer",
	"send ~ them ~ the ~ code", "send ~ him ~ the ~ code", "stuur ~ de ~ code", "give ~ the ~ code", "gave ~ the ~ code",
	// quoted: someone asks "you" for the code or number in the app
	"code ~ die ~ je ~ nu", "de ~ code ~ die ~ je ~ in", "nummer ~ dat ~ je ~ nu", "getal ~ dat ~ je ~ nu", "welke ~ code ~ zie ~ je",
	"the ~ code ~ you ~ see", "the ~ number ~ you ~ see", "what ~ code ~ do ~ you ~ see", "what ~ number ~ do ~ you ~ see",
	"met ~ de ~ servicedesk ~ we", "this ~ is ~ the ~ service ~ desk", "this ~ is ~ it ~ support", "hier ~ is ~ de ~ servicedesk")

// cDomain: words of the bot's subject (the steps, the app, the website).
var cDomain = cues("app", "authenticat*", "*authenticator", "telefoon*", "*telefoon", "phone*", "*phone", "mobiel*",
	"qr*", "*code*", "website", "site", "link", "aka", "mfasetup", "stap", "step", "stappen", "steps", "knop", "button",
	"scan*", "camera", "laptop", "computer", "pc", "browser", "apparaat", "device", "account*", "inlog*", "login",
	"aanmeld*", "sign*", "melding*", "notific*", "getal", "nummer", "number", "cijfers", "digits", "veilig*", "safe*",
	"secure*", "security", "mfa", "2fa", "microsoft", "methode*", "method*", "toevoegen", "add", "volgende", "next",
	"gereed", "klik*", "click*", "tik*", "=tap", "store", "download*", "install*", "wachtwoord*", "password*",
	"belfunctie", "bellen", "call*", "sms", "werk", "school*", "schoolaccount", "wifi", "bot", "jij", "je", "you")

// cDeictic: "this", "that" - a question pointing at what the bot said.
var cDeictic = cues("=dit", "=dat", "=deze", "=die", "=this", "=that", "=these", "=those", "=hier", "=here",
	"=daar", "=there", "=dan", "=then", "=zo", "=so")

// ownOffTopic: the student's own thing that is not the bot's subject
// ("mijn wifi", "my laptop charger").
func ownOffTopic(a *analysis) bool {
	toks := a.toks
	for i := 0; i+1 < len(toks); i++ {
		if toks[i] == "mijn" || toks[i] == "my" || toks[i] == "mn" || toks[i] == "m" {
			if !cOwnOnTopic.at(a, i+1) {
				return true
			}
		}
	}
	return false
}

var cOwnOnTopic = cues("app", "authenticat*", "*authenticator", "telefoon*", "*telefoon", "phone*", "*phone",
	"mobiel*", "gsm", "tel", "toestel", "iphone*", "samsung", "account*", "code*", "qr*", "camera", "laptop",
	"computer", "pc", "scherm", "screen", "nummer", "number", "06", "wachtwoord*", "password*", "inlog*", "login",
	"oude", "old", "nieuwe", "new", "browser", "apparaat", "device", "mfa", "melding*", "notific*", "school*")

var (
	fillerLead = [][]string{{"ik", "wil"}, {"i", "want", "to"}, {"i", "want"}, {"kan", "ik"}, {"can", "i"},
		{"mag", "ik"}, {"hallo"}, {"hoi"}, {"hi"}, {"hey"}, {"hello"}, {"goedemorgen"}, {"goedemiddag"}, {"even"}, {"eh"}, {"uh"}, {"hmm"}, {"please"}, {"graag"}, {"ok"}, {"oke"}, {"sorry"}, {"nou"}, {"well"}, {"ja"}, {"yes"}, {"nee"}, {"no"}}
	fillerTrail = wordSet("please", "pls", "plz", "alsjeblieft", "alstublieft", "aub", "graag", "maar", "even",
		"nu", "now", "thanks", "thx", "dank", "bedankt", "hoor", "dan", "then", "ok", "oke", "svp", "thank", "you", "je",
		"wel", "toch", "ermee", "daar", "there", "hoor")
)

// stripFiller removes polite and filler words from both ends.
func stripFiller(toks []string) []string {
	changed := true
	for changed && len(toks) > 0 {
		changed = false
		for _, lead := range fillerLead {
			if len(toks) > len(lead) && equalToks(toks[:len(lead)], lead) {
				toks = toks[len(lead):]
				changed = true
				break
			}
		}
	}
	for len(toks) > 1 && fillerTrail[toks[len(toks)-1]] {
		toks = toks[:len(toks)-1]
	}
	return toks
}

func equalToks(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cMatchingStrong: confusion about the number to type, on its own.
var cMatchingStrong = cues("getal ~ invoeren", "nummer ~ invoeren", "getal ~ invullen", "nummer ~ invullen",
	"zie ~ nergens ~ getal", "which ~ number ~ do ~ i", "number ~ matching", "welk ~ getal", "welk ~ nummer",
	"number ~ doesnt ~ match", "nummer ~ klopt ~ niet", "getal ~ klopt ~ niet", "komt ~ niet ~ overeen", "doesnt ~ match")

// cDoneWeak: reports of a step's action done ("ik heb de app
// gedownload"), weaker than "gelukt".
var cDoneWeak = cues("gedownload", "geinstalleerd", "toegevoegd", "gescand", "added", "installed", "downloaded",
	"scanned", "aangeklikt", "clicked", "ingevuld", "entered", "typed", "ingetypt", "opened", "geopend")

// cStepTalk: words about the parts of a step (options, buttons, the QR
// code), which make "there is no ... account option" a failed step.
var cStepTalk = cues("optie", "option", "knop", "button", "plusje", "plus", "qr*", "camera", "scan*", "menu", "website",
	"=stap", "=step", "=stap ~ =9", "=step ~ =9")

var cQuestionStart = cues("waarom", "why", "hoe", "how", "wat", "what", "=whats", "=wats", "=hows", "=wheres", "waar", "where", "welke", "which", "huh", "sorry")

var cExplainStrong = cues("waarom", "why", "=whats ~ number", "what ~ is ~ number", "wat ~ is ~ number", "uitleg*", "explain*", "wat ~ bedoel", "what ~ do ~ you ~ mean", "leg ~ uit",
	"wat ~ moet ~ ik", "what ~ should ~ i", "what ~ do ~ i ~ do", "waar ~ moet ~ ik", "where ~ do ~ i", "hoe ~ moet ~ ik",
	"how ~ do ~ i", "wat ~ nu", "what ~ now", "waar ~ klik*", "where ~ click*", "where ~ do ~ i ~ click", "wat ~ doe ~ ik",
	"meer ~ info*", "more ~ info*", "snap ~ niet", "begrijp ~ niet", "dont ~ understand", "do ~ not ~ understand",
	"wat ~ betekent", "what ~ does ~ mean", "what ~ does ~ that")

// failedOnly: "the app download doesn't work" is a failed step, not a
// sign-in problem: the trouble is doing something ("lukt niet"), not the
// app misbehaving.
func failedOnly(a *analysis) bool { return cDoingFails.in(a) && !cAppFails.in(a) }

var (
	cDoingFails = cues("lukt ~ niet", "lukt ~ me ~ niet", "kan ~ niet ~ vinden", "cant ~ find", "zie ~ geen", "dont ~ see")
	cAppFails   = cues("werkt ~ niet", "doesnt ~ work", "not ~ working", "geen ~ melding*", "no ~ notific*", "weg", "verdwenen",
		"gone", "missing", "stopped")
)

// fuzzyWhole matches a short message against the button labels and
// commands allowing a typo or two ("gelukr", "medwerker").
func fuzzyWhole(joined string) (Intent, bool) {
	n := len([]rune(joined))
	if n < 5 || n > 40 {
		return "", false
	}
	h := letterBag(joined)
	best, bestD := Intent(""), 99
	for _, k := range wholeKeys() {
		allowed := allowedTypos(k.n)
		if allowed == 0 {
			continue
		}
		if d := k.n - n; d > allowed || -d > allowed {
			continue
		}
		// Each edit changes at most two counts of the letter bag: a cheap
		// bound before the distance itself.
		diff := 0
		for i := range h {
			diff += abs(int(h[i]) - int(k.bag[i]))
		}
		if diff > 2*allowed {
			continue
		}
		d := osa(joined, k.s)
		if d <= allowed && (d < bestD || d == bestD && k.in < best) {
			best, bestD = k.in, d
		}
	}
	return best, best != ""
}

type wholeKey struct {
	s   string
	n   int
	in  Intent
	bag [27]uint8
}

var (
	wholeOnce sync.Once
	wholeList []wholeKey
)

// wholeKeys lists the whole-message answers with their letter bags, built
// once.
func wholeKeys() []wholeKey {
	wholeOnce.Do(func() {
		for s, in := range whole {
			wholeList = append(wholeList, wholeKey{s: s, n: len([]rune(s)), in: in, bag: letterBag(s)})
		}
	})
	return wholeList
}

// letterBag counts a..z; everything else in the last bin.
func letterBag(s string) [27]uint8 {
	var b [27]uint8
	for _, r := range s {
		i := 26
		if r >= 'a' && r <= 'z' {
			i = int(r - 'a')
		}
		if b[i] < 255 {
			b[i]++
		}
	}
	return b
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// unrequested reports words saying the requests were not the student's.
func unrequested(a *analysis) bool { return cUnreqStrong.in(a) || cUnreqWeak.in(a) }
