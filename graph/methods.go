package graph

import "context"

// HasKind reports whether ms holds a method of kind k.
func HasKind(ms []Method, k MethodKind) bool {
	for _, m := range ms {
		if m.Kind == k {
			return true
		}
	}
	return false
}

// OfKind returns the methods of kind k, in their original order.
func OfKind(ms []Method, k MethodKind) []Method {
	var out []Method
	for _, m := range ms {
		if m.Kind == k {
			out = append(out, m)
		}
	}
	return out
}

// Authenticators returns the Microsoft Authenticator registrations.
func Authenticators(ms []Method) []Method { return OfKind(ms, KindAuthenticator) }

// InApp returns the entries in the Microsoft Authenticator app: the
// app's registrations and passkeys in Authenticator (never a security key).
func InApp(ms []Method) []Method {
	var out []Method
	for _, m := range ms {
		if m.InAuthenticatorApp() {
			out = append(out, m)
		}
	}
	return out
}

// NewInApp returns the entries in the Authenticator app whose id is not
// in snapshot: after step 10, any of them means the new phone is
// registered (an Authenticator method, a passkey in Authenticator, or
// both).
func NewInApp(snapshot []string, ms []Method) []Method {
	seen := make(map[string]bool, len(snapshot))
	for _, id := range snapshot {
		seen[id] = true
	}
	var out []Method
	for _, m := range InApp(ms) {
		if !seen[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// Phones returns the phone methods (what makes the call route possible).
func Phones(ms []Method) []Method { return OfKind(ms, KindPhone) }

// IDs returns the method ids: the snapshot taken at the start of a
// conversation and compared after step 10 and step 11.
func IDs(ms []Method) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// HasID reports whether a method with this id is still registered.
func HasID(ms []Method, id string) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}

// AddedSince returns the methods of kind k whose id is not in snapshot:
// after step 10, a new Authenticator here means the new phone is
// registered (Graph gives no reliable creation date, so ids decide).
func AddedSince(snapshot []string, ms []Method, k MethodKind) []Method {
	seen := make(map[string]bool, len(snapshot))
	for _, id := range snapshot {
		seen[id] = true
	}
	var out []Method
	for _, m := range ms {
		if m.Kind == k && !seen[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// RegistrationReader is implemented by directories that can read the
// registration report (graph/msgraph, with AuditLog.Read.All). Callers
// check for it with a type assertion; the report may be stale, so it only
// adds to the methods list (for example: never act on an isAdmin account).
type RegistrationReader interface {
	RegistrationDetails(ctx context.Context, userID string) (RegistrationDetails, error)
}
