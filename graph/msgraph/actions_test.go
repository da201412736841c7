package msgraph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"mfabot/graph"
	"mfabot/graph/graphfake"
)

const tapPath = "/users/" + studentID + "/authentication/temporaryAccessPassMethods"

func (e *env) student(t *testing.T) {
	t.Helper()
	e.methods(t, "methods-list.json")
	e.graph.SetRegistrationJSON(studentID, fixture(t, "userRegistrationDetails.json"))
}

func TestCreateTAPOverTheWire(t *testing.T) {
	e := newEnv(t, nil)
	e.student(t)
	tap, err := e.dir.CreateTAP(context.Background(), studentID, graph.TAPRequest{LifetimeMinutes: 45, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	created := e.graph.CreatedTAPs()
	if len(created) != 1 || e.graph.Count(tapPath) != 1 {
		t.Fatalf("fake Graph got %d creates (%d requests), want 1", len(created), e.graph.Count(tapPath))
	}
	if tap.Pass == "" || tap.Pass != created[0].Pass || created[0].LifetimeMinutes != 45 || !created[0].UsableOnce || tap.LifetimeMinutes != 45 || !tap.UsableOnce {
		t.Fatalf("tap = %v (pass ok: %v), fake saw %+v", tap, tap.Pass == created[0].Pass, created[0])
	}
	if strings.Contains(e.logs.String(), tap.Pass) {
		t.Fatal("the pass reached a log line")
	}
	for _, s := range []string{tap.String(), tap.GoString()} {
		if strings.Contains(s, tap.Pass) {
			t.Fatalf("TAP prints its pass: %s", s)
		}
	}
	// The methods list now shows the pass as a method, without its value.
	ms, err := e.dir.Methods(context.Background(), studentID)
	if err != nil || !graph.HasKind(ms, graph.KindTAP) {
		t.Fatalf("methods after the TAP: %+v %v", ms, err)
	}
}

// Microsoft's own response (tap-create-response.json) maps as it should.
func TestCreateTAPReferenceResponse(t *testing.T) {
	e := newEnv(t, nil)
	e.student(t)
	e.script(t, tapPath, reply{status: http.StatusCreated, file: "tap-create-response.json"})
	tap, err := e.dir.CreateTAP(context.Background(), studentID, graph.TAPRequest{LifetimeMinutes: 60, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	if tap.Pass != "+drkzqAD" || tap.ID != "6f1967b7-15e8-4935-ac26-d50770ed07a7" || tap.LifetimeMinutes != 60 || tap.StartsAt.Year() != 2022 {
		t.Fatalf("tap = %v", tap)
	}
}

func TestWriteErrorsMapToSentinels(t *testing.T) {
	policy := graphfake.ErrorBody("badRequest", "The Temporary Access Pass authentication method policy is not enabled for this user.")
	for _, tc := range []struct {
		name string
		r    reply
		want error
	}{
		{"403", reply{status: 403, file: "error-403.json"}, graph.ErrForbidden},
		{"404", reply{status: 404, file: "error-404.json"}, graph.ErrNotFound},
		{"400 policy", reply{status: 400, body: policy}, graph.ErrPolicy},
		{"409", reply{status: 409, body: graphfake.ErrorBody("conflict", "A Temporary Access Pass cannot be created now.")}, graph.ErrPolicy},
		{"429", reply{status: 429, file: "error-429.json", retryAfter: "30"}, graph.ErrThrottled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.student(t)
			e.script(t, tapPath, tc.r, tc.r, tc.r)
			_, err := e.dir.CreateTAP(context.Background(), studentID, graph.TAPRequest{LifetimeMinutes: 60, UsableOnce: true})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n := len(e.graph.CreatedTAPs()); n != 0 {
				t.Fatalf("%d passes created", n)
			}
		})
	}
	t.Run("policy off in the fake", func(t *testing.T) {
		e := newEnv(t, nil)
		e.student(t)
		e.graph.SetTAPPolicy(studentID, false)
		if _, err := e.dir.CreateTAP(context.Background(), studentID, graph.TAPRequest{LifetimeMinutes: 60}); !errors.Is(err, graph.ErrPolicy) {
			t.Fatalf("err = %v, want ErrPolicy", err)
		}
	})
	t.Run("lifetime outside Microsoft's bounds is not sent", func(t *testing.T) {
		e := newEnv(t, nil)
		e.student(t)
		if _, err := e.dir.CreateTAP(context.Background(), studentID, graph.TAPRequest{LifetimeMinutes: 5}); !errors.Is(err, graph.ErrPolicy) {
			t.Fatalf("err = %v, want ErrPolicy", err)
		}
		if e.graph.Count(tapPath) != 0 {
			t.Fatal("sent anyway")
		}
	})
}

func TestDeleteMethodsAndRevokeOverTheWire(t *testing.T) {
	e := newEnv(t, nil)
	e.student(t)
	ctx := context.Background()
	const authID, fidoID = "6803c096-c096-6803-96c0-036896c00368", "-2_GRUg2-HYz6_1YG4YRAQ2"
	if err := e.dir.DeleteAuthenticator(ctx, studentID, authID); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.DeleteAuthenticator(ctx, studentID, authID); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if err := e.dir.DeleteFIDO2(ctx, studentID, fidoID); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.DeleteFIDO2(ctx, studentID, "../../me"); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("a path in a method id: %v", err)
	}
	ms, err := e.dir.Methods(ctx, studentID)
	if err != nil || graph.HasID(ms, authID) || graph.HasID(ms, fidoID) || !graph.HasKind(ms, graph.KindPhone) {
		t.Fatalf("methods after the deletes: %+v %v", ms, err)
	}
	if err := e.dir.RevokeSignInSessions(ctx, studentID); err != nil {
		t.Fatal(err)
	}
	if n := e.graph.Revocations(studentID); n != 1 {
		t.Fatalf("revocations = %d", n)
	}
	rd, err := e.dir.RegistrationDetails(ctx, studentID)
	if err != nil || rd.IsAdmin {
		t.Fatalf("registration details: %+v %v", rd, err)
	}
}
