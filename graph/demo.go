package graph

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultDemoStudent is the student an unknown object id gets (Agents
// Playground's test user, a fresh Teams tenant).
const DefaultDemoStudent = "sam"

// demoNewDevice is the model name the simulated new phone registers
// with (Graph's displayName of an Authenticator is the phone model).
const demoNewDevice = "iPhone 15"

// demoMaxUnknown caps how many unknown object ids the demo directory
// keeps a simulated account for; the oldest is forgotten first.
const demoMaxUnknown = 1000

type demoStudent struct {
	name, displayName, upn, lang string
	methods                      func(id func(string) string) []Method
	// newPhone is what the new phone registers at step 10: "" an
	// Authenticator (push) entry, "passkey" a passkey in Authenticator
	// only (the app's Sign in path), "both" the two of them.
	newPhone string
}

// A security key's AAGUID (YubiKey 5 NFC): a FIDO2 method that is not in
// Authenticator and that the flow never removes.
const demoSecurityKeyAAGUID = "cb69481e-8ff7-4039-93ec-0a2729a154a8"

// demoStudents are the design's five demo students and the two whose new
// phone registers a passkey in Authenticator (pia, ben), in listing order.
var demoStudents = []demoStudent{
	{"sam", "Sam de Vries", "sam@student.example.nl", "nl-NL", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("authenticator-1"), Kind: KindAuthenticator, DisplayName: "iPhone 12", AppVersion: "6.8.14"},
			{ID: id("phone-1"), Kind: KindPhone, PhoneMasked: MaskPhone("+31 612345678"), PhoneType: "mobile"},
		}
	}, ""},
	{"lars", "Lars Jansen", "lars@student.example.nl", "nl-NL", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("authenticator-1"), Kind: KindAuthenticator, DisplayName: "Galaxy S20", AppVersion: "6.2404.2229"},
		}
	}, ""},
	{"noor", "Noor El Amrani", "noor@student.example.nl", "nl-NL", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("phone-1"), Kind: KindPhone, PhoneMasked: MaskPhone("+31 687654321"), PhoneType: "mobile"},
		}
	}, ""},
	{"eva", "Eva Bakker", "eva@student.example.nl", "en-GB", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
		}
	}, ""},
	{"kim", "Kim Nguyen", "kim@student.example.nl", "en-US", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("authenticator-1"), Kind: KindAuthenticator, DisplayName: "Pixel 6", AppVersion: "6.2405.3014"},
			{ID: id("authenticator-2"), Kind: KindAuthenticator, DisplayName: "iPad", AppVersion: "6.8.10"},
			{ID: id("phone-1"), Kind: KindPhone, PhoneMasked: MaskPhone("+31 611122233"), PhoneType: "mobile"},
		}
	}, ""},
	// pia's new phone registers a passkey in Authenticator only.
	{"pia", "Pia Visser", "pia@student.example.nl", "nl-NL", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("authenticator-1"), Kind: KindAuthenticator, DisplayName: "Galaxy S21", AppVersion: "6.2409.6094"},
			{ID: id("phone-1"), Kind: KindPhone, PhoneMasked: MaskPhone("+31 623456789"), PhoneType: "mobile"},
		}
	}, "passkey"},
	// ben has a passkey in Authenticator on his old phone and a security
	// key; his new phone registers both an Authenticator entry and a passkey.
	{"ben", "Ben Mulder", "ben@student.example.nl", "en-GB", func(id func(string) string) []Method {
		return []Method{
			{ID: id("password"), Kind: KindPassword},
			{ID: id("authenticator-1"), Kind: KindAuthenticator, DisplayName: "iPhone 11", AppVersion: "6.8.12"},
			{ID: id("passkey-1"), Kind: KindFIDO2, DisplayName: "iPhone 11", AAGUID: AAGUIDAuthenticatorIOS,
				Model: "Microsoft Authenticator for iOS", CreatedAt: time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC)},
			{ID: id("security-key-1"), Kind: KindFIDO2, DisplayName: "YubiKey", AAGUID: demoSecurityKeyAAGUID,
				Model: "YubiKey 5 NFC", CreatedAt: time.Date(2025, 2, 3, 9, 0, 0, 0, time.UTC)},
			{ID: id("phone-1"), Kind: KindPhone, PhoneMasked: MaskPhone("+31 634567890"), PhoneType: "mobile"},
		}
	}, "both"},
}

// DemoStudents returns the demo students' names (sam, lars, noor, eva,
// kim, pia, ben), the default first.
func DemoStudents() []string {
	out := make([]string, len(demoStudents))
	for i, s := range demoStudents {
		out[i] = s.name
	}
	return out
}

// DemoUserID returns the stable, GUID-shaped object id of a demo student
// (for `mfabot chat --student NAME`). Any name gives an id; only the
// demo names have their own account, other ids get the default student.
func DemoUserID(name string) string {
	return guid("mfabot-demo-user:" + strings.ToLower(strings.TrimSpace(name)))
}

// guid derives a GUID-shaped (version 4 layout) id from seed.
func guid(seed string) string {
	h := sha256.Sum256([]byte(seed))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

type demoAccount struct {
	user     User
	student  string // demo name this account was made from
	methods  []Method
	original []string // Authenticator ids at the start ("the old phone" first)
	passkeys []string // passkeys in Authenticator at the start (on the old phone)
	newPhone string   // what step 10 registers (demoStudent.newPhone)
	added    int      // new phones registered by the simulation
	newIDs   []string // the simulated new phone's entries, none yet
	replaced bool     // step 11 removed the replaced phone (once per run)
}

// Demo is the demo directory: the five demo students with simulated
// accounts that change when the student confirms a step (step 10
// registers the new phone, step 11 removes the old one), so that the
// whole happy path including verification can be walked without a
// tenant. It is safe for concurrent use. Nothing it returns is real: see
// IsSimulation.
type Demo struct {
	mu       sync.Mutex
	accounts map[string]*demoAccount
	unknown  []string // unknown ids in arrival order, for the cap
}

var (
	_ Directory = (*Demo)(nil)
	_ Simulator = (*Demo)(nil)
)

// NewDemo returns a demo directory with every student in the state the
// design describes.
func NewDemo() *Demo {
	d := &Demo{accounts: map[string]*demoAccount{}}
	for _, s := range demoStudents {
		id := DemoUserID(s.name)
		d.accounts[id] = newDemoAccount(s, id)
	}
	return d
}

func newDemoAccount(s demoStudent, userID string) *demoAccount {
	a := &demoAccount{
		user:     User{ID: userID, DisplayName: s.displayName, UserPrincipalName: s.upn, PreferredLanguage: s.lang},
		student:  s.name,
		methods:  s.methods(func(part string) string { return guid(userID + "/" + part) }),
		newPhone: s.newPhone,
	}
	a.original = IDs(Authenticators(a.methods))
	for _, m := range a.methods {
		if m.IsAuthenticatorPasskey() {
			a.passkeys = append(a.passkeys, m.ID)
		}
	}
	return a
}

func demoStudentByName(name string) demoStudent {
	for _, s := range demoStudents {
		if s.name == name {
			return s
		}
	}
	return demoStudents[0]
}

// IsSimulation reports that this directory is a simulation: the dialogs
// tell the student so.
func (d *Demo) IsSimulation() bool { return true }

// account returns the account for userID, creating a per-id copy of the
// default student for an unknown id. d.mu must be held.
func (d *Demo) account(userID string) *demoAccount {
	if a, ok := d.accounts[userID]; ok {
		return a
	}
	if len(d.unknown) >= demoMaxUnknown {
		delete(d.accounts, d.unknown[0])
		d.unknown = d.unknown[1:]
	}
	a := newDemoAccount(demoStudentByName(DefaultDemoStudent), userID)
	d.accounts[userID] = a
	d.unknown = append(d.unknown, userID)
	return a
}

// User returns the simulated student.
func (d *Demo) User(ctx context.Context, userID string) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, fmt.Errorf("graph: demo user: %w: %w", ErrUnavailable, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.account(userID).user, nil
}

// Methods returns a copy of the simulated student's sign-in methods.
func (d *Demo) Methods(ctx context.Context, userID string) ([]Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("graph: demo methods: %w: %w", ErrUnavailable, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.account(userID).methods), nil
}

// SimulateStepDone changes the simulated account the way the student's
// real account changes when they confirm step ("step10", "10", "step_10"
// are all read as step 10): step 10 registers the new phone once: an
// Authenticator entry (demoNewDevice, a new id), a passkey in
// Authenticator, or both, as the student's newPhone says. Step 11
// removes the entries of the phone being replaced (the first
// Authenticator the student had at the start, and the passkeys in
// Authenticator of the start), once: confirming step 11 again, or step
// 12 (the OK of the same delete), removes nothing more, so a student with
// two old devices (kim) keeps the other one. The phone-number method and
// a security key are never removed. Other steps change nothing.
func (d *Demo) SimulateStepDone(userID, step string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.account(userID)
	switch stepNumber(step) {
	case "10":
		for _, id := range a.newIDs {
			if HasID(a.methods, id) {
				return
			}
		}
		a.added++
		a.newIDs = nil
		if a.newPhone != "passkey" {
			id := guid(fmt.Sprintf("%s/new-authenticator-%d", userID, a.added))
			a.newIDs = append(a.newIDs, id)
			a.methods = append(a.methods, Method{ID: id, Kind: KindAuthenticator, DisplayName: demoNewDevice, AppVersion: "6.8.20"})
		}
		if a.newPhone == "passkey" || a.newPhone == "both" {
			id := guid(fmt.Sprintf("%s/new-passkey-%d", userID, a.added))
			a.newIDs = append(a.newIDs, id)
			a.methods = append(a.methods, Method{ID: id, Kind: KindFIDO2, DisplayName: demoNewDevice,
				AAGUID: AAGUIDAuthenticatorIOS, Model: "Microsoft Authenticator for iOS", CreatedAt: time.Now().UTC().Truncate(time.Second)})
		}
	case "11":
		if a.replaced || len(a.original)+len(a.passkeys) == 0 {
			return
		}
		a.replaced = true
		if len(a.original) > 0 {
			d.removeLocked(a, a.original[0])
		}
		for _, id := range a.passkeys {
			d.removeLocked(a, id)
		}
	}
}

// SimulateRemove removes one entry in the Authenticator app by id (an
// Authenticator registration or a passkey in Authenticator), for a flow
// that knows which device the student chose to delete (kim has two).
// Phone, password and security-key methods are never removed.
func (d *Demo) SimulateRemove(userID, methodID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked(d.account(userID), methodID)
}

func (d *Demo) removeLocked(a *demoAccount, methodID string) {
	a.methods = slices.DeleteFunc(a.methods, func(m Method) bool {
		return m.ID == methodID && m.InAuthenticatorApp()
	})
}

// Reset puts the student's simulated account back in its starting state
// (for "start over" in a demo).
func (d *Demo) Reset(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.account(userID)
	*a = *newDemoAccount(demoStudentByName(a.student), userID)
}

// stepNumber returns the digits in a step id ("step10" -> "10").
func stepNumber(step string) string {
	var b strings.Builder
	for _, r := range step {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsSimulation reports whether d is a simulated directory (the demo
// directory), so that the conversation can say so.
func IsSimulation(d Directory) bool {
	s, ok := d.(interface{ IsSimulation() bool })
	return ok && s.IsSimulation()
}
