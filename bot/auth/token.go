package auth

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// parsedToken is a compact JWS split and decoded, not yet verified.
type parsedToken struct {
	alg           string
	kid           string
	signingString string
	signature     []byte
	claims        map[string]any
}

// parseToken splits and decodes a compact JWT. It checks the header's
// algorithm against the allow-list before anything else is looked at, and
// never trusts the types of header or claim values.
func parseToken(raw string) (*parsedToken, error) {
	if len(raw) > MaxTokenBytes {
		return nil, reject(ReasonMalformed)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, reject(ReasonMalformed)
	}
	hdrJSON, err := b64(parts[0])
	if err != nil {
		return nil, reject(ReasonMalformed)
	}
	var hdr map[string]any
	if err := decodeJSONObject(hdrJSON, &hdr); err != nil {
		return nil, reject(ReasonMalformed)
	}
	alg, _ := hdr["alg"].(string)
	if alg != "RS256" && alg != "RS384" && alg != "RS512" {
		return nil, reject(ReasonBadAlg)
	}
	kid, _ := hdr["kid"].(string)
	if kid == "" {
		return nil, reject(ReasonUnknownKID)
	}
	sig, err := b64(parts[2])
	if err != nil || len(sig) == 0 {
		return nil, reject(ReasonMalformed)
	}
	claimsJSON, err := b64(parts[1])
	if err != nil {
		return nil, reject(ReasonMalformed)
	}
	var claims map[string]any
	if err := decodeJSONObject(claimsJSON, &claims); err != nil {
		return nil, reject(ReasonMalformed)
	}
	return &parsedToken{
		alg:           alg,
		kid:           kid,
		signingString: parts[0] + "." + parts[1],
		signature:     sig,
		claims:        claims,
	}, nil
}

// verify checks the signature with key, using the header's (allow-listed)
// RSA algorithm.
func (t *parsedToken) verify(key *rsa.PublicKey) error {
	var m *jwt.SigningMethodRSA
	switch t.alg {
	case "RS256":
		m = jwt.SigningMethodRS256
	case "RS384":
		m = jwt.SigningMethodRS384
	case "RS512":
		m = jwt.SigningMethodRS512
	default:
		return reject(ReasonBadAlg)
	}
	if err := m.Verify(t.signingString, t.signature, key); err != nil {
		return reject(ReasonBadSignature)
	}
	return nil
}

// b64 decodes base64url without padding, as JWS requires, tolerating
// padding some encoders add.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// decodeJSONObject decodes one JSON object (numbers as json.Number) and
// refuses trailing data.
func decodeJSONObject(data []byte, v *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if *v == nil {
		return errNotObject
	}
	if dec.More() {
		return errNotObject
	}
	return nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNotObject = constError("not a single JSON object")

// numericClaim reads a NumericDate claim (seconds since the epoch).
func numericClaim(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case float64:
		f = n
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
