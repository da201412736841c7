package graph

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Service-desk write operations (staff.actions). The interface that uses
// them is declared in staff; these are the types and errors they share,
// and the demo directory's implementation.

// TAPRequest asks for a Temporary Access Pass.
type TAPRequest struct {
	LifetimeMinutes int  // 10..43200, bound by the tenant's policy
	UsableOnce      bool // one sign-in only
}

// TAP is a created Temporary Access Pass. Pass is the secret: it is shown
// once to the staff member and must never be stored, logged or sent.
type TAP struct {
	ID              string
	Pass            string
	LifetimeMinutes int
	UsableOnce      bool
	StartsAt        time.Time
}

// String never prints the pass (a %v in a log line must not leak it).
func (t TAP) String() string {
	return fmt.Sprintf("TAP{id=%s lifetime=%dm once=%v}", t.ID, t.LifetimeMinutes, t.UsableOnce)
}

// GoString keeps %#v from printing the pass.
func (t TAP) GoString() string { return t.String() }

// LogValue keeps slog from printing the pass.
func (t TAP) LogValue() slog.Value { return slog.StringValue(t.String()) }

// Errors of the write operations (beside ErrForbidden, ErrNotFound,
// ErrThrottled, ErrUnavailable).
var (
	// ErrPolicy: Graph refused the request (400/409): for a TAP, the
	// tenant's Temporary Access Pass policy is off for this user or the
	// lifetime is outside it; for a delete, the method is the default one.
	ErrPolicy = errors.New("graph: refused by policy")
)

// TAP lifetime bounds (Microsoft's, before the tenant's policy).
const (
	MinTAPLifetime = 10
	MaxTAPLifetime = 43200
)

// CreateTAP simulates a Temporary Access Pass: one per user, a new one
// replaces the old (as in Entra ID).
func (d *Demo) CreateTAP(ctx context.Context, userID string, req TAPRequest) (TAP, error) {
	if err := ctx.Err(); err != nil {
		return TAP{}, fmt.Errorf("graph: demo create tap: %w: %w", ErrUnavailable, err)
	}
	if req.LifetimeMinutes < MinTAPLifetime || req.LifetimeMinutes > MaxTAPLifetime {
		return TAP{}, fmt.Errorf("graph: demo create tap: lifetime %d minutes: %w", req.LifetimeMinutes, ErrPolicy)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.account(userID)
	id := guid(userID + "/tap-" + randomPass())
	a.methods = slices.DeleteFunc(a.methods, func(m Method) bool { return m.Kind == KindTAP })
	a.methods = append(a.methods, Method{ID: id, Kind: KindTAP})
	return TAP{ID: id, Pass: randomPass(), LifetimeMinutes: req.LifetimeMinutes, UsableOnce: req.UsableOnce}, nil
}

// DeleteAuthenticator removes an Authenticator (app) registration.
func (d *Demo) DeleteAuthenticator(ctx context.Context, userID, methodID string) error {
	return d.deleteMethod(ctx, userID, methodID, KindAuthenticator)
}

// DeleteFIDO2 removes a passkey (FIDO2) registration.
func (d *Demo) DeleteFIDO2(ctx context.Context, userID, methodID string) error {
	return d.deleteMethod(ctx, userID, methodID, KindFIDO2)
}

func (d *Demo) deleteMethod(ctx context.Context, userID, methodID string, kind MethodKind) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("graph: demo delete method: %w: %w", ErrUnavailable, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.account(userID)
	n := len(a.methods)
	a.methods = slices.DeleteFunc(a.methods, func(m Method) bool { return m.ID == methodID && m.Kind == kind })
	if len(a.methods) == n {
		return fmt.Errorf("graph: demo delete %s method %s: %w", kind, methodID, ErrNotFound)
	}
	return nil
}

// RevokeSignInSessions signs the simulated student out everywhere.
func (d *Demo) RevokeSignInSessions(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("graph: demo revoke sessions: %w: %w", ErrUnavailable, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.account(userID) // an unknown id gets its account, as with every call
	return nil
}

// RegistrationDetails of a demo student: never an admin.
func (d *Demo) RegistrationDetails(ctx context.Context, userID string) (RegistrationDetails, error) {
	if err := ctx.Err(); err != nil {
		return RegistrationDetails{}, fmt.Errorf("graph: demo registration details: %w: %w", ErrUnavailable, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.account(userID)
	return RegistrationDetails{IsAdmin: false, IsMFARegistered: HasKind(a.methods, KindAuthenticator)}, nil
}

var _ RegistrationReader = (*Demo)(nil)

// passAlphabet is what Entra ID's passes are made of (letters, digits
// and a few symbols, like "+drkzqAD").
const passAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+-"

func randomPass() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("graph: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = passAlphabet[int(b[i])%len(passAlphabet)]
	}
	return string(b)
}
