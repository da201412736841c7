package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"mfabot/internal/testenv"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"mfabot/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var weekdays = []string{"mon", "tue", "wed", "thu", "fri"}

// seedInstitution is config's default: the seed guide's contact details.
func seedInstitution() Institution {
	return Institution{
		Name:  "ICT Servicedesk",
		Phone: "088 - 469 9070",
		Desks: []Desk{
			{Name: "Zwolle", Location: "F2.03", Days: weekdays, Open: "08:00", Close: "16:00"},
			{Name: "Almere", Location: "Serviceplein, 6e etage", Days: weekdays, Open: "08:30", Close: "17:00"},
		},
		Timezone:          "Europe/Amsterdam",
		SetupURL:          "https://aka.ms/mfasetup",
		PasswordChangeURL: "https://mysignins.microsoft.com/security-info/password/change",
		IdentityCheck:     "Neem je identiteitsbewijs (paspoort, ID-kaart of rijbewijs) of je studentenpas mee. / Bring your passport, ID card or driving licence, or your student card.",
	}
}

var amsterdam = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return loc
}()

// ams is a wall-clock time in Amsterdam.
func ams(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, amsterdam)
}

// clock is an injectable, race-safe test clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeNotifier records what handoff sends, like the Connector would
// receive it.
type fakeNotifier struct {
	mu       sync.Mutex
	posts    []json.RawMessage
	updates  []cardUpdate
	messages []studentMessage
	lookups  int
	upns     map[string]string // userID -> UPN
	postErr  error
	nextID   int
}

type cardUpdate struct {
	ThreadID, ActivityID string
	Card                 json.RawMessage
}

type studentMessage struct{ ConversationID, Text string }

func (f *fakeNotifier) PostStaffCard(ctx context.Context, card json.RawMessage) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return "", "", f.postErr
	}
	f.nextID++
	f.posts = append(f.posts, card)
	n := strconv.Itoa(f.nextID)
	return "19:staff@thread.tacv2;messageid=" + n, "1:activity-" + n, nil
}

func (f *fakeNotifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, cardUpdate{threadID, activityID, card})
	return nil
}

func (f *fakeNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, studentMessage{conversationID, text})
	return nil
}

func (f *fakeNotifier) MemberUPN(ctx context.Context, conversationID, userID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if upn, ok := f.upns[userID]; ok {
		return upn, nil
	}
	return "", errors.New("member not found")
}

func (f *fakeNotifier) snapshot() (posts []json.RawMessage, updates []cardUpdate, msgs []studentMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.posts...), append([]cardUpdate(nil), f.updates...), append([]studentMessage(nil), f.messages...)
}

const staffChannel = "19:staffchannel@thread.tacv2"

type fixture struct {
	logs  *testenv.LogBuffer
	svc   *Service
	st    store.Store
	n     *fakeNotifier
	clock *testClock
}

func newFixture(t *testing.T, inst Institution, now time.Time) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &testClock{t: now}
	n := &fakeNotifier{upns: map[string]string{}}
	logs := &testenv.LogBuffer{}
	svc, err := NewService(Options{
		Store: st, Notifier: n, Institution: inst, StaffChannelID: staffChannel,
		DashboardURL: "https://mfabot.example.nl/staff/", Now: clk.Now,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return &fixture{logs: logs, svc: svc, st: st, n: n, clock: clk}
}

// golden compares got (JSON) with testdata/name, indented.
func golden(t *testing.T, name string, got json.RawMessage) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: invalid JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with -update to create)", name, err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s", name, buf.String())
	}
}

// wait lets the background card updates and student messages finish.
func (f *fixture) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.svc.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
