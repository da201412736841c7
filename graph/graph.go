// Package graph owns what mfabot knows about a student's account: the
// Directory interface, the sign-in method types, phone-number masking and
// the demo directory. It never imports msgraph-sdk-go (that lives in
// graph/msgraph, so other packages never pay its compile cost).
package graph

import (
	"context"
	"errors"
	"strings"
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
	AAGUID      string     `json:"aaGuid,omitempty"`      // FIDO2: which authenticator made the passkey
	Model       string     `json:"model,omitempty"`       // FIDO2: "Microsoft Authenticator for iOS", "NFC key"
	CreatedAt   time.Time  `json:"createdAt,omitzero"`    // FIDO2, Hello; null for most Authenticator entries
}

// The AAGUIDs of a passkey in Microsoft Authenticator (Entra docs,
// how-to-enable-authenticator-passkey). Graph lists such a passkey as a
// fido2AuthenticationMethod, not as an Authenticator method: a passkey with
// any other AAGUID is a security key (or another passkey provider).
const (
	AAGUIDAuthenticatorAndroid = "de1e552d-db1d-4423-a619-566b625cdc84"
	AAGUIDAuthenticatorIOS     = "90a3ccdf-635c-4729-a248-9b709135078f"
)

// IsAuthenticatorPasskey reports whether m is a passkey in Microsoft
// Authenticator (on a phone), as opposed to a security key.
func (m Method) IsAuthenticatorPasskey() bool {
	if m.Kind != KindFIDO2 {
		return false
	}
	g := strings.ToLower(strings.TrimSpace(m.AAGUID))
	return g == AAGUIDAuthenticatorAndroid || g == AAGUIDAuthenticatorIOS
}

// IsSecurityKey reports whether m is a FIDO2 passkey that is not in
// Microsoft Authenticator: a security key the student owns. The bot never
// asks to remove it.
func (m Method) IsSecurityKey() bool { return m.Kind == KindFIDO2 && !m.IsAuthenticatorPasskey() }

// InAuthenticatorApp reports whether m lives in the Microsoft
// Authenticator app on a phone: the app's own registration (push and
// codes) or a passkey in Authenticator. A new phone counts as registered
// when either appears; the old phone is gone when its entries are.
func (m Method) InAuthenticatorApp() bool {
	return m.Kind == KindAuthenticator || m.IsAuthenticatorPasskey()
}

// PasskeyPlatform is "ios" or "android" for a passkey in Authenticator,
// "" otherwise.
func (m Method) PasskeyPlatform() string {
	switch strings.ToLower(strings.TrimSpace(m.AAGUID)) {
	case AAGUIDAuthenticatorIOS:
		return "ios"
	case AAGUIDAuthenticatorAndroid:
		return "android"
	}
	return ""
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
