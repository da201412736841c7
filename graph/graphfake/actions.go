package graphfake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The service desk's write calls (staff.actions), in Microsoft's shapes:
// create a Temporary Access Pass (201, tap-create-response.json), delete
// an Authenticator or passkey (FIDO2) registration (204), revoke sign-in
// sessions (200, {"value": true}).

const (
	odataAuthenticator = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
	odataFIDO2         = "#microsoft.graph.fido2AuthenticationMethod"
	odataTAP           = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
)

// Passkey returns a fido2AuthenticationMethod (a passkey in Microsoft
// Authenticator on iOS by its aaGuid).
func Passkey(id, displayName string) map[string]any {
	return map[string]any{
		"@odata.type": odataFIDO2,
		"id":          id, "displayName": displayName, "createdDateTime": "2026-09-01T10:15:00Z",
		"aaGuid": "90a3ccdf-635c-4729-a248-9b709135078f", "model": "Microsoft Authenticator for iOS",
		"attestationCertificates": []string{}, "attestationLevel": "notAttested",
	}
}

// CreatedTAP is one pass the fake created.
type CreatedTAP struct {
	UserID          string
	Pass            string
	LifetimeMinutes int
	UsableOnce      bool
}

// writeState is kept beside the accounts (g.mu guards it).
type writeState struct {
	tapOff  map[string]bool
	taps    []CreatedTAP
	revokes map[string]int
}

// ws returns g's write state; g.mu is held.
func (g *Graph) ws() *writeState {
	w := &g.writes
	if w.tapOff == nil {
		w.tapOff, w.revokes = map[string]bool{}, map[string]int{}
	}
	return w
}

// SetTAPPolicy turns the tenant's Temporary Access Pass policy off (or on
// again) for a user: a create then answers 400, as Graph does.
func (g *Graph) SetTAPPolicy(userID string, enabled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ws().tapOff[userID] = !enabled
}

// CreatedTAPs returns every pass the fake created, oldest first (tests
// search logs and the store for them).
func (g *Graph) CreatedTAPs() []CreatedTAP {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ws().taps)
}

// Revocations returns how often the user's sessions were revoked.
func (g *Graph) Revocations(userID string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ws().revokes[userID]
}

func writeMethod(m string) bool { return m == http.MethodPost || m == http.MethodDelete }

// routeWrite answers a POST or DELETE from the accounts' state; g.mu is held.
func (g *Graph) routeWrite(method, path string, body []byte) (int, string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 3 || parts[0] != "users" {
		return http.StatusNotFound, ErrorBody("BadRequest", "Resource not found for the segment '"+parts[len(parts)-1]+"'.")
	}
	a, ok := g.accounts[parts[1]]
	if !ok {
		return http.StatusNotFound, ErrorBody("Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
	}
	switch {
	case method == http.MethodPost && len(parts) == 4 && parts[2] == "authentication" && parts[3] == "temporaryAccessPassMethods":
		return g.createTAP(parts[1], a, body)
	case method == http.MethodDelete && len(parts) == 5 && parts[2] == "authentication" &&
		(parts[3] == "microsoftAuthenticatorMethods" || parts[3] == "fido2Methods"):
		want := odataAuthenticator
		if parts[3] == "fido2Methods" {
			want = odataFIDO2
		}
		i := slices.IndexFunc(a.methods, func(m map[string]any) bool { return m["id"] == parts[4] && m["@odata.type"] == want })
		if i < 0 {
			return http.StatusNotFound, ErrorBody("itemNotFound", "The requested authentication method was not found.")
		}
		a.methods, a.methodsJSON = slices.Delete(a.methods, i, i+1), nil
		return http.StatusNoContent, ""
	case method == http.MethodPost && len(parts) == 3 && parts[2] == "revokeSignInSessions":
		g.ws().revokes[parts[1]]++
		return http.StatusOK, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true}`
	}
	return http.StatusMethodNotAllowed, ErrorBody("Request_BadRequest", method+" "+path+" is not expected.")
}

func (g *Graph) createTAP(userID string, a *account, body []byte) (int, string) {
	var req struct {
		ODataType         string  `json:"@odata.type"`
		LifetimeInMinutes *int    `json:"lifetimeInMinutes"`
		IsUsableOnce      *bool   `json:"isUsableOnce"`
		StartDateTime     *string `json:"startDateTime"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, ErrorBody("BadRequest", "Unable to read JSON request payload.")
	}
	if req.ODataType != "" && req.ODataType != odataTAP {
		return http.StatusBadRequest, ErrorBody("BadRequest", "Invalid @odata.type for a temporaryAccessPassMethod.")
	}
	if g.ws().tapOff[userID] {
		return http.StatusBadRequest, ErrorBody("badRequest",
			"The Temporary Access Pass authentication method policy is not enabled for this user.")
	}
	lifetime, once := 60, false // the tenant policy's defaults
	if req.LifetimeInMinutes != nil {
		lifetime = *req.LifetimeInMinutes
	}
	if req.IsUsableOnce != nil {
		once = *req.IsUsableOnce
	}
	if lifetime < 10 || lifetime > 43200 {
		return http.StatusBadRequest, ErrorBody("badRequest",
			"The lifetimeInMinutes value is outside the range allowed by the Temporary Access Pass policy.")
	}
	now := time.Now().UTC()
	id := randomID()
	pass := randomPass()
	// One usable pass per user: a new one replaces the old.
	a.methods = slices.DeleteFunc(a.methods, func(m map[string]any) bool { return m["@odata.type"] == odataTAP })
	a.methods, a.methodsJSON = append(a.methods, map[string]any{
		"@odata.type": odataTAP, "id": id, "temporaryAccessPass": nil,
		"createdDateTime": now.Format(time.RFC3339Nano), "startDateTime": now.Format(time.RFC3339Nano),
		"lifetimeInMinutes": lifetime, "isUsableOnce": once, "isUsable": true, "methodUsabilityReason": "EnabledByPolicy",
	}), nil
	g.ws().taps = append(g.ws().taps, CreatedTAP{UserID: userID, Pass: pass, LifetimeMinutes: lifetime, UsableOnce: once})
	return http.StatusCreated, mustJSON(map[string]any{
		"@odata.context":        "https://graph.microsoft.com/v1.0/$metadata#users('" + userID + "')/authentication/temporaryAccessPassMethods/$entity",
		"@odata.type":           odataTAP,
		"id":                    id,
		"temporaryAccessPass":   pass,
		"createdDateTime":       now.Format(time.RFC3339Nano),
		"startDateTime":         now.Format(time.RFC3339Nano),
		"lifetimeInMinutes":     lifetime,
		"isUsableOnce":          once,
		"isUsable":              true,
		"methodUsabilityReason": "EnabledByPolicy",
	})
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// randomPass looks like Graph's passes ("+drkzqAD"): unique per call, so
// a test can search for it.
func randomPass() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+-"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
