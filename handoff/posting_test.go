package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mfabot/internal/testenv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mfabot/store"
)

// testStores opens a fresh SQLite store and, with MFABOT_TEST_POSTGRES_URL,
// a PostgreSQL one in a schema of its own.
func testStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	out := map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
	base, ok := testenv.PostgresBase(t)
	if !ok {
		t.Log("postgres: skipped (MFABOT_TEST_POSTGRES_URL not set)")
		return out
	}
	out["postgres"] = func(t *testing.T) store.Store {
		st, err := store.Open(context.Background(), testenv.FreshSchema(t, base))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	return out
}

// instance is one mfabot replica's Service on a shared store.
func instance(t *testing.T, st store.Store, n Notifier, clk *testClock, id string) *Service {
	t.Helper()
	svc, err := NewService(Options{
		Store: st, Notifier: n, Institution: seedInstitution(), StaffChannelID: staffChannel,
		InstanceID: id, Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// blockingNotifier holds PostStaffCard until release is closed, after
// telling entered.
type blockingNotifier struct {
	fakeNotifier
	entered chan struct{}
	release chan struct{}
}

func (b *blockingNotifier) PostStaffCard(ctx context.Context, card json.RawMessage) (string, string, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.fakeNotifier.PostStaffCard(ctx, card)
}

// Every instance runs PostPending every minute: a pending card is
// posted by one of them only.
func TestPostPendingOnceAcrossInstances(t *testing.T) {
	for name, open := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
			failing := &fakeNotifier{upns: map[string]string{}, postErr: errors.New("connector: 502 Bad Gateway")}
			res, err := instance(t, st, failing, clk, "creator").Escalate(ctx, samRequest("a:conv"))
			if err != nil || !res.Created {
				t.Fatalf("%+v %v", res, err)
			}
			clk.Set(clk.Now().Add(time.Minute))

			slow := &blockingNotifier{fakeNotifier: fakeNotifier{upns: map[string]string{}}, entered: make(chan struct{}, 1), release: make(chan struct{})}
			fast := &fakeNotifier{upns: map[string]string{}}
			a, b := instance(t, st, slow, clk, "replica-a"), instance(t, st, fast, clk, "replica-b")
			done := make(chan int, 1)
			go func() {
				n, err := a.PostPending(ctx)
				if err != nil {
					t.Errorf("A: %v", err)
				}
				done <- n
			}()
			<-slow.entered // A is posting the card right now
			if n, err := b.PostPending(ctx); err != nil || n != 0 {
				t.Errorf("B PostPending while A posts = %d, %v; want 0", n, err)
			}
			close(slow.release)
			if n := <-done; n != 1 {
				t.Errorf("A posted %d, want 1", n)
			}
			for _, svc := range []*Service{a, b} {
				if n, err := svc.PostPending(ctx); err != nil || n != 0 {
					t.Errorf("PostPending after the card is in the channel = %d, %v", n, err)
				}
			}
			pa, _, _ := slow.snapshot()
			pb, _, _ := fast.snapshot()
			if len(pa)+len(pb) != 1 {
				t.Fatalf("%d + %d cards posted, want exactly 1", len(pa), len(pb))
			}
			got, _ := st.GetEscalation(ctx, res.Escalation.ID)
			if got.StaffActivityID != "1:activity-1" {
				t.Errorf("stored card id %q", got.StaffActivityID)
			}
		})
	}
}

type maybeErr struct{}

func (maybeErr) Error() string        { return "connector: post: connection lost" }
func (maybeErr) MaybeDelivered() bool { return true }

// A post that may have reached Teams (a timeout, a lost connection) is
// not repeated: staff would get two cards for one student.
func TestMaybeDeliveredCardNotReposted(t *testing.T) {
	for name, postErr := range map[string]error{
		"sentinel":  fmt.Errorf("bot: post staff card: %w", fmt.Errorf("%w: connector: timeout", ErrMaybeDelivered)),
		"timeout":   fmt.Errorf("bot: post staff card: %w", context.DeadlineExceeded),
		"interface": fmt.Errorf("bot: post staff card: %w", maybeErr{}),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
			f.n.postErr = postErr
			before := testutil.ToFloat64(metricCardPosts.WithLabelValues("maybe_delivered"))
			res, err := f.svc.Escalate(ctx, samRequest("a:conv"))
			if err != nil || !res.Created {
				t.Fatalf("%+v %v", res, err)
			}
			if d := testutil.ToFloat64(metricCardPosts.WithLabelValues("maybe_delivered")) - before; d != 1 {
				t.Errorf("maybe_delivered metric moved by %v, want 1", d)
			}
			if !strings.Contains(f.logs.String(), "may have been posted") {
				t.Errorf("no log line about the uncertain post:\n%s", f.logs.String())
			}
			f.n.mu.Lock()
			f.n.postErr = nil
			f.n.mu.Unlock()
			for i := 0; i < 3; i++ {
				f.clock.Set(f.clock.Now().Add(time.Minute))
				if n, err := f.svc.PostPending(ctx); err != nil || n != 0 {
					t.Fatalf("PostPending = %d, %v; want 0", n, err)
				}
			}
			if posts, _, _ := f.n.snapshot(); len(posts) != 0 {
				t.Errorf("%d cards reposted", len(posts))
			}
			// Staff still find it in the queue.
			if l := list(t, f); len(l) != 1 || l[0].ID != res.Escalation.ID {
				t.Errorf("escalation not in the queue: %+v", l)
			}
		})
	}
}

// failIDSave refuses to store the staff card ids.
type failIDSave struct{ store.Store }

func (f failIDSave) UpdateEscalation(ctx context.Context, e store.Escalation) (int64, error) {
	if e.StaffActivityID != "" {
		return 0, errors.New("database is locked")
	}
	return f.Store.UpdateEscalation(ctx, e)
}

// A card that was posted but whose ids could not be saved is not posted
// again every minute.
func TestCardWithUnsavedIDsNotReposted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	svc := instance(t, failIDSave{f.st}, f.n, f.clock, "one")
	res, err := svc.Escalate(ctx, samRequest("a:conv"))
	if err != nil || !res.Created {
		t.Fatalf("%+v %v", res, err)
	}
	for i := 0; i < 3; i++ {
		f.clock.Set(f.clock.Now().Add(time.Minute))
		if n, err := svc.PostPending(ctx); err != nil || n != 0 {
			t.Fatalf("PostPending = %d, %v; want 0", n, err)
		}
	}
	if posts, _, _ := f.n.snapshot(); len(posts) != 1 {
		t.Errorf("%d cards posted, want 1", len(posts))
	}
}
