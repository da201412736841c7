package graphfake

// Passkeys in Microsoft Authenticator and security keys, in Graph's shape
// (#microsoft.graph.fido2AuthenticationMethod: aaGuid, model, displayName,
// createdDateTime), and the two students whose new phone registers a
// passkey: one a passkey only, one a passkey and an Authenticator entry.

// The AAGUIDs of a passkey in Microsoft Authenticator (Entra docs).
const (
	AAGUIDAuthenticatorAndroid = "de1e552d-db1d-4423-a619-566b625cdc84"
	AAGUIDAuthenticatorIOS     = "90a3ccdf-635c-4729-a248-9b709135078f"
	// AAGUIDYubiKey5NFC is a security key's: not in Authenticator.
	AAGUIDYubiKey5NFC = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
)

// AuthenticatorPasskey returns a passkey in Microsoft Authenticator on
// platform "ios" or "android" (any other value: iOS), as Graph lists it.
func AuthenticatorPasskey(id, displayName, platform string) map[string]any {
	aaguid, model := AAGUIDAuthenticatorIOS, "Microsoft Authenticator for iOS"
	if platform == "android" {
		aaguid, model = AAGUIDAuthenticatorAndroid, "Microsoft Authenticator for Android"
	}
	return map[string]any{
		"@odata.type": odataFIDO2,
		"id":          id, "displayName": displayName, "createdDateTime": "2026-12-03T09:41:07Z",
		"aaGuid": aaguid, "model": model,
		"attestationCertificates": []string{}, "attestationLevel": "notAttested",
	}
}

// SecurityKey returns a FIDO2 security key (a YubiKey 5 NFC, attested).
func SecurityKey(id, displayName string) map[string]any {
	return map[string]any{
		"@odata.type": odataFIDO2,
		"id":          id, "displayName": displayName, "createdDateTime": "2025-02-03T09:00:00Z",
		"aaGuid": AAGUIDYubiKey5NFC, "model": "YubiKey 5 NFC",
		"attestationCertificates": []string{"4f3a2e1d0c9b8a7968574635241302f1e0d9c8b7"}, "attestationLevel": "attested",
	}
}

// Student is an account for a re-setup walked through the fake: its
// methods at the start, what the new phone registers at step 10, which
// entries are the old phone's (removed at step 11), and which must stay.
type Student struct {
	ObjectID, DisplayName, UPN, PreferredLanguage string

	Start    []map[string]any
	NewPhone []map[string]any
	OldPhone []string // ids removed at step 11
	Keep     []string // ids the flow must never have removed (security key, phone number, password)
}

// PasskeyOnlyStudent moves to a new Android phone that registers only a
// passkey in Authenticator (the app's Sign in path); the old phone has an
// Authenticator entry.
func PasskeyOnlyStudent() Student {
	return Student{
		ObjectID: "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", DisplayName: "Pia Visser", UPN: "p7654321@student.example.nl",
		PreferredLanguage: "nl-NL",
		Start: []map[string]any{
			Password("28c10230-6103-485e-b985-444c60001490"),
			Authenticator("6803c096-c096-6803-96c0-036896c00368", "Galaxy S21"),
			Phone("3179e48a-750b-4051-897c-87b9720928f7", "+31 623456789", "mobile"),
		},
		NewPhone: []map[string]any{AuthenticatorPasskey("Uy3hR0p1YxK2bW9vQ8tN-ZdA4cE5fG6h", "Pixel 9", "android")},
		OldPhone: []string{"6803c096-c096-6803-96c0-036896c00368"},
		Keep:     []string{"28c10230-6103-485e-b985-444c60001490", "3179e48a-750b-4051-897c-87b9720928f7"},
	}
}

// PasskeyAndPushStudent has an Authenticator entry and a passkey in
// Authenticator on the old iPhone, and a security key; the new iPhone
// registers both an Authenticator entry and a passkey.
func PasskeyAndPushStudent() Student {
	return Student{
		ObjectID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", DisplayName: "Ben Mulder", UPN: "b1122334@student.example.nl",
		PreferredLanguage: "en-GB",
		Start: []map[string]any{
			Password("5b6c7d8e-0000-4a1b-9c2d-3e4f5a6b7c8d"),
			Authenticator("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "iPhone 11"),
			AuthenticatorPasskey("oLd-PaSsKeY_0123456789abcdefABCDEF", "iPhone 11", "ios"),
			SecurityKey("-2_GRUg2-HYz6_1YG4YRAQ2", "YubiKey"),
			Phone("2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", "+31 634567890", "mobile"),
		},
		NewPhone: []map[string]any{
			Authenticator("d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70", "iPhone 16"),
			AuthenticatorPasskey("nEw-PaSsKeY_9876543210fedcbaFEDCBA", "iPhone 16", "ios"),
		},
		OldPhone: []string{"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "oLd-PaSsKeY_0123456789abcdefABCDEF"},
		Keep: []string{"5b6c7d8e-0000-4a1b-9c2d-3e4f5a6b7c8d", "-2_GRUg2-HYz6_1YG4YRAQ2",
			"2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"},
	}
}

// AddStudent creates the student's profile and start methods.
func (g *Graph) AddStudent(s Student) {
	g.SetUser(s.ObjectID, s.DisplayName, s.UPN, s.PreferredLanguage)
	for _, m := range s.Start {
		g.AddMethod(s.ObjectID, m)
	}
}

// RegisterNewPhone adds what the student's new phone registers (step 10).
func (g *Graph) RegisterNewPhone(s Student) {
	for _, m := range s.NewPhone {
		g.AddMethod(s.ObjectID, m)
	}
}

// RemoveOldPhone removes the old phone's entries (step 11 done right).
func (g *Graph) RemoveOldPhone(s Student) {
	for _, id := range s.OldPhone {
		g.RemoveMethod(s.ObjectID, id)
	}
}

// MethodIDs returns the ids of the user's methods as the fake holds them.
func (g *Graph) MethodIDs(userID string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []string
	for _, m := range g.acct(userID).methods {
		if id, ok := m["id"].(string); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
