// Package graph owns what mfabot knows about a student's account: the
// Directory interface, the sign-in method types, phone-number masking and
// the demo directory. It never imports msgraph-sdk-go (that lives in
// graph/msgraph, so other packages never pay its compile cost).
package graph

import (
	"context"
	"errors"
	"time"
)

// MethodKind is the kind of a registered sign-in method.
type MethodKind string

const (
	KindAuthenticator MethodKind = "authenticator" // microsoftAuthenticatorAuthenticationMethod
	KindPhone         MethodKind = "phone"
	KindFIDO2         MethodKind = "fido2"
	KindWindowsHello  MethodKind = "windows_hello"
	KindSoftwareOATH  MethodKind = "software_oath"
	KindEmail         MethodKind = "email"
	KindTAP           MethodKind = "temporary_access_pass"
	KindPassword      MethodKind = "password"
	KindOther         MethodKind = "other"
)

// Method is one registered sign-in method. Phone numbers are only ever
// held masked.
type Method struct {
	ID          string     `json:"id"`
	Kind        MethodKind `json:"kind"`
	DisplayName string     `json:"displayName,omitempty"` // device name for Authenticator, FIDO2, Hello
	AppVersion  string     `json:"appVersion,omitempty"`  // Authenticator
	PhoneMasked string     `json:"phoneMasked,omitempty"` // phone: "+31 6 ** ** ** 78"
	PhoneType   string     `json:"phoneType,omitempty"`   // mobile | alternateMobile | office
	ODataType   string     `json:"odataType,omitempty"`   // for KindOther
}

// User is the student as the directory knows them.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	PreferredLanguage string `json:"preferredLanguage"`
}

// RegistrationDetails is the (possibly stale) registration report.
type RegistrationDetails struct {
	IsAdmin           bool
	IsMFARegistered   bool
	MethodsRegistered []string
	LastUpdated       time.Time
}

// Errors a Directory returns; implementations wrap them so that
// errors.Is works and the cause stays in the message for the logs.
var (
	ErrForbidden   = errors.New("graph: permission missing")
	ErrNotFound    = errors.New("graph: user not found")
	ErrThrottled   = errors.New("graph: throttled")
	ErrUnavailable = errors.New("graph: unavailable")
)

// Directory reads a student's account. userID is always the
// from.aadObjectId of a validated activity.
type Directory interface {
	User(ctx context.Context, userID string) (User, error)
	Methods(ctx context.Context, userID string) ([]Method, error)
}

// Simulator is implemented by the demo directory only: the turn runner
// tells it which step the student confirmed, so the simulated account
// changes the way a real one would (step 10 registers the new phone,
// step 11 removes the old one).
type Simulator interface {
	SimulateStepDone(userID, step string)
}
