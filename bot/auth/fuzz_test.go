package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"mfabot/internal/msfake"
)

// FuzzValidateHeader throws arbitrary Authorization headers at Validate:
// it must never panic, and every rejection is an *Error with 401 or 403.
func FuzzValidateHeader(f *testing.F) {
	fx := newFixture(f)
	good := fx.sign()
	f.Add("Bearer " + good)
	f.Add("Bearer " + fx.sign(msfake.WithAlg("none")))
	f.Add("Bearer " + fx.sign(msfake.WithAlg("HS256")))
	f.Add("Bearer " + fx.sign(msfake.WithClaim("aud", []any{1, "x", nil})))
	f.Add("Bearer " + fx.sign(msfake.WithHeader("kid", map[string]any{"a": 1})))
	f.Add("Bearer " + fx.sign(msfake.WithKID("ghost")))
	f.Add("Bearer " + strings.Replace(good, ".", "..", 1))
	f.Add("Bearer a.b.c")
	f.Add("Bearer ...")
	f.Add("Bearer =.=.=")
	f.Add("Basic Zm9vOmJhcg==")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		id, err := fx.v.Validate(context.Background(), header, serviceURL, channel)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || (ae.Status != 401 && ae.Status != 403) || ae.Reason == "" {
				t.Fatalf("bad rejection %T %v", err, err)
			}
			return
		}
		if id == nil || id.AppID != appID || !SameServiceURL(id.ServiceURL, serviceURL) {
			t.Fatalf("accepted with identity %+v", id)
		}
	})
}

// FuzzClaims signs arbitrary claim sets with the real key, so that every
// claim check is reached, and compares the verdict with a plain reading
// of the claims.
func FuzzClaims(f *testing.F) {
	fx := newFixture(f)
	key := fx.op.Key("key-1").Private
	now := fx.clock.Now().Unix()
	good := `{"iss":"https://api.botframework.com","aud":"` + appID + `","serviceurl":"` + serviceURL + `","exp":` + jsonInt(now+3600) + `,"nbf":` + jsonInt(now-300) + `}`
	f.Add(good)
	f.Add(strings.Replace(good, `"aud":"`+appID+`"`, `"aud":["x","`+appID+`"]`, 1))
	f.Add(strings.Replace(good, `"aud":"`+appID+`"`, `"aud":{"0":"`+appID+`"}`, 1))
	f.Add(strings.Replace(good, `"exp":`, `"exp":"`, 1))
	f.Add(strings.Replace(good, `"exp":`, `"exp":-1e308,"e":`, 1))
	f.Add(strings.Replace(good, `"nbf":`, `"nbf":1e999,"n":`, 1))
	f.Add(`{"iss":null,"aud":null,"exp":null}`)
	f.Add(`{}`)
	f.Add(`[]`)
	f.Add(`null`)
	f.Add(`{"exp":` + jsonInt(now) + `}{}`)
	f.Fuzz(func(t *testing.T, claims string) {
		tok := rawToken(t, `{"alg":"RS256","kid":"key-1","typ":"JWT"}`, claims, key)
		id, err := fx.v.Validate(context.Background(), "Bearer "+tok, serviceURL, channel)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || (ae.Status != 401 && ae.Status != 403) {
				t.Fatalf("bad rejection %T %v", err, err)
			}
			return
		}
		// Accepted: check independently that it deserved it.
		var c map[string]any
		if json.Unmarshal([]byte(claims), &c) != nil {
			t.Fatalf("accepted claims that are not a JSON object: %q", claims)
		}
		if c["iss"] != Issuer {
			t.Fatalf("accepted iss %v", c["iss"])
		}
		if !audienceContains(c["aud"], appID) {
			t.Fatalf("accepted aud %v", c["aud"])
		}
		exp, ok := c["exp"].(float64)
		if !ok || float64(fx.clock.Now().Unix()) > exp+DefaultLeeway.Seconds() {
			t.Fatalf("accepted exp %v", c["exp"])
		}
		if nbf, present := c["nbf"]; present {
			n, ok := nbf.(float64)
			if !ok || float64(fx.clock.Now().Add(DefaultLeeway).Unix()) < n {
				t.Fatalf("accepted nbf %v", nbf)
			}
		}
		su, _ := c["serviceurl"].(string)
		if !SameServiceURL(su, serviceURL) || id.ServiceURL != su {
			t.Fatalf("accepted serviceurl %v", c["serviceurl"])
		}
		if id.ExpiresAt.Before(time.Unix(0, 0)) {
			t.Fatalf("odd expiry %v", id.ExpiresAt)
		}
	})
}
