// Package auth owns the validation of the Bot Framework's inbound tokens:
// the JWT a channel puts in the Authorization header of every activity it
// posts to /api/messages. It checks what the official SDKs check
// (algorithm, signing key from the OpenID metadata, issuer, audience,
// expiry with leeway, the serviceurl claim, endorsements) and keeps the
// signing keys cached, refetching them rate-limited when an unknown key id
// shows up. The tenant allow-list is not here: package bot checks the
// activity's tenant after this package has accepted the token.
//
// msbotbuilder-go's validator is not used: it fetches metadata per request,
// never refetches on an unknown kid, has no leeway, accepts tokens without
// exp, panics on odd claims and races on its key cache.
package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Issuer is the only accepted "iss" of channel -> bot tokens.
const Issuer = "https://api.botframework.com"

// DefaultMetadataURL is the Bot Framework's OpenID metadata document.
const DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"

// Defaults for Config's zero values.
const (
	DefaultLeeway     = 5 * time.Minute
	DefaultMinRefetch = time.Minute
	DefaultCacheTTL   = 24 * time.Hour
	// MaxTokenBytes bounds the Authorization header accepted for parsing.
	MaxTokenBytes = 16 << 10
	// fetchTimeout bounds one metadata+JWKS fetch.
	fetchTimeout = 10 * time.Second
	// maxDocBytes bounds the metadata and JWKS documents read.
	maxDocBytes = 1 << 20
)

// Failure reasons, used as Error.Reason and as the metric label.
const (
	ReasonMissingHeader = "missing_header"
	ReasonMalformed     = "malformed"
	ReasonBadAlg        = "bad_alg"
	ReasonBadSignature  = "bad_signature"
	ReasonUnknownKID    = "unknown_kid"
	ReasonIssuer        = "issuer"
	ReasonAudience      = "audience"
	ReasonExpired       = "expired"
	ReasonNotYetValid   = "not_yet_valid"
	ReasonNoExp         = "no_exp"
	ReasonServiceURL    = "serviceurl"
	ReasonEndorsement   = "endorsement"
	ReasonMetadata      = "metadata"
	ReasonConfig        = "config"
	ReasonCanceled      = "canceled"
)

var (
	rejections = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_auth_token_rejections_total",
		Help: "Inbound Bot Framework tokens rejected, by reason.",
	}, []string{"reason"})
	keyFetches = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_auth_key_fetches_total",
		Help: "Fetches of the Bot Framework OpenID metadata and signing keys, by result.",
	}, []string{"result"})
)

// Error is a rejected token. Status is 401 (authentication failed) or 403
// (authenticated, but not for this channel). Reason is a short, fixed label;
// neither field ever contains token contents, so Error() is safe to log and
// the HTTP response should carry no more than the status.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("auth: token rejected (%d %s)", e.Status, e.Reason)
}

func reject(reason string) *Error {
	st := http.StatusUnauthorized
	if reason == ReasonEndorsement {
		st = http.StatusForbidden
	}
	return &Error{Status: st, Reason: reason}
}

// Identity is what a validated token says about the caller.
type Identity struct {
	// AppID is the audience that matched (the bot's App ID).
	AppID string
	// ServiceURL is the token's serviceurl claim, which equals the
	// activity's serviceUrl; only such URLs may receive the bot's token.
	ServiceURL string
	// KeyID is the kid of the signing key.
	KeyID string
	// Endorsements of the signing key (channel ids), possibly empty.
	Endorsements []string
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
}

// Config configures a Validator. Zero values get the defaults.
type Config struct {
	// AppID is the bot's Microsoft App ID; an empty AppID rejects every
	// token (reason "config").
	AppID string
	// MetadataURL is the OpenID metadata document; default DefaultMetadataURL.
	MetadataURL string
	// HTTPClient fetches metadata and keys; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp and nbf; default 5 minutes.
	Leeway time.Duration
	// MinRefetch is the least time between two fetches of the keys
	// (an unknown kid triggers one); default 1 minute.
	MinRefetch time.Duration
	// CacheTTL is how long fetched keys are used before a refresh; default 24 h.
	CacheTTL time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Validator validates inbound tokens. It is safe for concurrent use.
type Validator struct {
	cfg Config

	mu          sync.Mutex
	keys        map[string]*signingKey
	fetchedAt   time.Time // last successful fetch
	lastAttempt time.Time // last fetch started (success or not)
	inflight    *fetchCall
	tokens      map[[32]byte]*verifiedToken // by SHA-256 of the token
}

type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// New returns a Validator for cfg.
func New(cfg Config) *Validator {
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultMetadataURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: fetchTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MinRefetch <= 0 {
		cfg.MinRefetch = DefaultMinRefetch
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Validator{cfg: cfg}
}

// Validate checks the Authorization header of an activity whose serviceUrl
// and channelId are given. It returns an *Error on rejection (also for a
// canceled context or unreachable key metadata, both with status 401).
func (v *Validator) Validate(ctx context.Context, authorization, serviceURL, channelID string) (*Identity, error) {
	id, err := v.validate(ctx, authorization, serviceURL, channelID)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = reject(ReasonMalformed)
		}
		rejections.WithLabelValues(ae.Reason).Inc()
		return nil, ae
	}
	return id, nil
}

func (v *Validator) validate(ctx context.Context, authorization, serviceURL, channelID string) (*Identity, error) {
	if v.cfg.AppID == "" {
		return nil, reject(ReasonConfig)
	}
	raw, ok := bearer(authorization)
	if !ok {
		if strings.TrimSpace(authorization) == "" {
			return nil, reject(ReasonMissingHeader)
		}
		return nil, reject(ReasonMalformed)
	}
	sum := sha256.Sum256([]byte(raw))
	tok, err := v.verified(ctx, sum, raw)
	if err != nil {
		return nil, err
	}
	// What depends on the clock and on the activity: on every use.
	now := v.cfg.Now()
	nowSec := float64(now.UnixNano()) / 1e9
	leeway := v.cfg.Leeway.Seconds()
	if nowSec > tok.exp+leeway {
		return nil, reject(ReasonExpired)
	}
	if tok.hasNbf && nowSec+leeway < tok.nbf {
		return nil, reject(ReasonNotYetValid)
	}
	if tok.serviceURL == "" || serviceURL == "" || !SameServiceURL(tok.serviceURL, serviceURL) {
		return nil, reject(ReasonServiceURL)
	}
	if len(tok.key.endorsements) > 0 && !contains(tok.key.endorsements, channelID) {
		return nil, reject(ReasonEndorsement)
	}
	return &Identity{
		AppID:        v.cfg.AppID,
		ServiceURL:   tok.serviceURL,
		KeyID:        tok.kid,
		Endorsements: append([]string(nil), tok.key.endorsements...),
		ExpiresAt:    secondsToTime(tok.exp),
	}, nil
}

// verifiedToken is what a token whose signature, issuer and audience
// were checked says: the claims checked on every use, and the key that
// signed it.
type verifiedToken struct {
	kid        string
	key        *signingKey
	exp, nbf   float64
	hasNbf     bool
	serviceURL string
}

// maxVerified bounds the verified-token cache. Only tokens with a valid
// signature get in, so a flood of forged tokens cannot fill it.
const maxVerified = 4096

// verified returns the checked claims of raw (sum is its SHA-256). The
// Bot Framework sends the same token with every activity until it renews
// it (about an hour), so its RSA signature is checked once, not per
// activity; a hit still asks for its key, so a key that left the key set
// (or a refetch after the keys' TTL) makes the token be checked again.
func (v *Validator) verified(ctx context.Context, sum [32]byte, raw string) (*verifiedToken, error) {
	v.mu.Lock()
	hit := v.tokens[sum]
	v.mu.Unlock()
	if hit != nil {
		key, err := v.key(ctx, hit.kid)
		if err != nil {
			return nil, err
		}
		if key == hit.key {
			return hit, nil
		}
	}
	tok, err := parseToken(raw)
	if err != nil {
		return nil, err
	}
	key, err := v.key(ctx, tok.kid)
	if err != nil {
		return nil, err
	}
	if err := tok.verify(key.pub); err != nil {
		return nil, err
	}
	c := tok.claims
	if iss, ok := c["iss"].(string); !ok || iss != Issuer {
		return nil, reject(ReasonIssuer)
	}
	if !audienceContains(c["aud"], v.cfg.AppID) {
		return nil, reject(ReasonAudience)
	}
	exp, ok := numericClaim(c["exp"])
	if !ok {
		return nil, reject(ReasonNoExp)
	}
	vt := &verifiedToken{kid: tok.kid, key: key, exp: exp}
	if raw, present := c["nbf"]; present {
		nbf, ok := numericClaim(raw)
		if !ok {
			return nil, reject(ReasonNotYetValid)
		}
		vt.nbf, vt.hasNbf = nbf, true
	}
	vt.serviceURL, _ = c["serviceurl"].(string)
	v.remember(sum, vt)
	return vt, nil
}

// remember caches a verified token; when the cache is full, the expired
// ones go, and if that frees nothing, all of them.
func (v *Validator) remember(sum [32]byte, vt *verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tokens == nil {
		v.tokens = map[[32]byte]*verifiedToken{}
	}
	if len(v.tokens) >= maxVerified {
		cutoff := float64(v.cfg.Now().Unix()) - v.cfg.Leeway.Seconds()
		for k, t := range v.tokens {
			if t.exp < cutoff {
				delete(v.tokens, k)
			}
		}
		if len(v.tokens) >= maxVerified {
			clear(v.tokens)
		}
	}
	v.tokens[sum] = vt
}

// SameServiceURL reports whether two serviceUrls are the same in the Bot
// Framework's sense: equal ignoring case and one trailing '/'.
func SameServiceURL(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

func bearer(h string) (string, bool) {
	if len(h) > MaxTokenBytes+len("Bearer ") {
		return "", false
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", false
	}
	return tok, true
}

func audienceContains(aud any, appID string) bool {
	switch a := aud.(type) {
	case string:
		return a == appID
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == appID {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func secondsToTime(s float64) time.Time {
	const maxSec = 1 << 40 // far beyond any real token; avoids overflow
	if s > maxSec {
		s = maxSec
	}
	if s < 0 {
		s = 0
	}
	sec := int64(s)
	return time.Unix(sec, int64((s-float64(sec))*1e9)).UTC()
}
