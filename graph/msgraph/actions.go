package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"mfabot/graph"
)

// The service desk's write calls (staff.actions). They need write
// permissions the bot's default registration does not have
// (docs/deploy.md): UserAuthenticationMethod.ReadWrite.All (or the
// per-method permissions) and User.RevokeSessions.All.

// methodID is the shape of a method id: a GUID, or a passkey's base64url id.
var methodID = regexp.MustCompile(`^[A-Za-z0-9_=-]{1,200}$`)

// write runs fn like call, and maps 400 and 409 to graph.ErrPolicy (the
// tenant's policy refused: TAP off for the user, lifetime outside the
// policy, the default method). It never logs a request or response body.
func (d *Directory) write(ctx context.Context, name, userID string, fn func(context.Context) error) error {
	var policy bool
	err := d.call(ctx, name, userID, func(ctx context.Context) error {
		err := fn(ctx)
		var apiErr abs.ApiErrorable
		if errors.As(err, &apiErr) {
			s := apiErr.GetStatusCode()
			policy = s == http.StatusBadRequest || s == http.StatusConflict
		}
		return err
	})
	if err != nil && policy {
		return fmt.Errorf("%w (%w)", graph.ErrPolicy, err)
	}
	return err
}

// CreateTAP creates a Temporary Access Pass. The returned pass is the
// secret: callers show it once and keep it nowhere.
func (d *Directory) CreateTAP(ctx context.Context, userID string, req graph.TAPRequest) (graph.TAP, error) {
	if req.LifetimeMinutes < graph.MinTAPLifetime || req.LifetimeMinutes > graph.MaxTAPLifetime {
		return graph.TAP{}, fmt.Errorf("graph: create tap: lifetime %d minutes: %w", req.LifetimeMinutes, graph.ErrPolicy)
	}
	var tap graph.TAP
	err := d.write(ctx, "create_tap", userID, func(ctx context.Context) error {
		body := models.NewTemporaryAccessPassAuthenticationMethod()
		lifetime := int32(req.LifetimeMinutes)
		once := req.UsableOnce
		body.SetLifetimeInMinutes(&lifetime)
		body.SetIsUsableOnce(&once)
		res, err := d.client.Users().ByUserId(userID).Authentication().TemporaryAccessPassMethods().Post(ctx, body, nil)
		if err != nil {
			return err
		}
		if res == nil || deref(res.GetTemporaryAccessPass()) == "" {
			return errors.New("create tap: response without a pass")
		}
		tap = graph.TAP{
			ID:              deref(res.GetId()),
			Pass:            deref(res.GetTemporaryAccessPass()),
			LifetimeMinutes: int(deref(res.GetLifetimeInMinutes())),
			UsableOnce:      deref(res.GetIsUsableOnce()),
			StartsAt:        deref(res.GetStartDateTime()),
		}
		if tap.StartsAt.IsZero() {
			tap.StartsAt = time.Now()
		}
		return nil
	})
	return tap, err
}

// DeleteAuthenticator removes an Authenticator app registration (204).
func (d *Directory) DeleteAuthenticator(ctx context.Context, userID, id string) error {
	if !methodID.MatchString(id) {
		return fmt.Errorf("graph: delete authenticator: %q is not a method id: %w", id, graph.ErrNotFound)
	}
	return d.write(ctx, "delete_authenticator", userID, func(ctx context.Context) error {
		return d.client.Users().ByUserId(userID).Authentication().MicrosoftAuthenticatorMethods().
			ByMicrosoftAuthenticatorAuthenticationMethodId(id).Delete(ctx, nil)
	})
}

// DeleteFIDO2 removes a passkey (FIDO2) registration, such as a passkey
// in Microsoft Authenticator (204).
func (d *Directory) DeleteFIDO2(ctx context.Context, userID, id string) error {
	if !methodID.MatchString(id) {
		return fmt.Errorf("graph: delete passkey: %q is not a method id: %w", id, graph.ErrNotFound)
	}
	return d.write(ctx, "delete_fido2", userID, func(ctx context.Context) error {
		return d.client.Users().ByUserId(userID).Authentication().Fido2Methods().
			ByFido2AuthenticationMethodId(id).Delete(ctx, nil)
	})
}

// RevokeSignInSessions signs the user out everywhere: refresh tokens end
// at once, access tokens live out their lifetime (up to an hour).
func (d *Directory) RevokeSignInSessions(ctx context.Context, userID string) error {
	return d.write(ctx, "revoke_sessions", userID, func(ctx context.Context) error {
		res, err := d.client.Users().ByUserId(userID).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
		if err != nil {
			return err
		}
		if res == nil || !deref(res.GetValue()) {
			return errors.New("revoke sessions: Graph did not confirm")
		}
		return nil
	})
}
