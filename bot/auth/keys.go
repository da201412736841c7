package auth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
)

// minRSABits is the smallest signing key accepted from the JWKS.
const minRSABits = 2048

// key returns the signing key for kid. Keys come from a cache that is
// refreshed after CacheTTL; an unknown kid triggers a refetch, but fetches
// start at most once per MinRefetch, and concurrent callers share one fetch.
// When a refresh fails, keys already known keep working.
func (v *Validator) key(ctx context.Context, kid string) (*signingKey, error) {
	var fetchErr error
	for waited := false; ; waited = true {
		v.mu.Lock()
		now := v.cfg.Now()
		k, known := v.keys[kid]
		fresh := !v.fetchedAt.IsZero() && now.Sub(v.fetchedAt) < v.cfg.CacheTTL
		if known && (fresh || waited) {
			v.mu.Unlock()
			return k, nil
		}
		if waited {
			empty := len(v.keys) == 0
			v.mu.Unlock()
			if fetchErr != nil && empty {
				return nil, reject(ReasonMetadata)
			}
			return nil, reject(ReasonUnknownKID)
		}
		call := v.inflight
		if call == nil {
			if !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.cfg.MinRefetch {
				// Rate-limited: answer from what we have.
				empty := len(v.keys) == 0
				v.mu.Unlock()
				if known {
					return k, nil
				}
				if empty {
					return nil, reject(ReasonMetadata)
				}
				return nil, reject(ReasonUnknownKID)
			}
			call = &fetchCall{done: make(chan struct{})}
			v.inflight = call
			v.lastAttempt = now
			go v.runFetch(call)
		}
		v.mu.Unlock()
		select {
		case <-call.done:
			fetchErr = call.err
		case <-ctx.Done():
			return nil, reject(ReasonCanceled)
		}
	}
}

// runFetch performs one shared fetch on a context of its own, so that a
// caller giving up does not fail the fetch for the others.
func (v *Validator) runFetch(call *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	keys, err := v.fetchKeysSafely(ctx)
	v.mu.Lock()
	if err == nil {
		v.keys = keys
		v.fetchedAt = v.cfg.Now()
	}
	v.inflight = nil
	call.err = err
	v.mu.Unlock()
	close(call.done)
	if err != nil {
		keyFetches.WithLabelValues("error").Inc()
		v.cfg.Logger.Warn("auth: fetching Bot Framework signing keys failed", "err", err)
		return
	}
	keyFetches.WithLabelValues("ok").Inc()
	v.cfg.Logger.Info("auth: Bot Framework signing keys fetched", "keys", len(keys))
}

type openIDMetadata struct {
	JWKSURI string `json:"jwks_uri"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	X5C          []string `json:"x5c"`
	Endorsements []string `json:"endorsements"`
}

func (v *Validator) fetchKeys(ctx context.Context) (map[string]*signingKey, error) {
	var md openIDMetadata
	if err := v.getJSON(ctx, v.cfg.MetadataURL, &md); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if md.JWKSURI == "" {
		return nil, errors.New("openid metadata: no jwks_uri")
	}
	var set jwkSet
	if err := v.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]*signingKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kid == "" || (k.Kty != "" && k.Kty != "RSA") {
			continue
		}
		pub, err := k.rsaPublicKey()
		if err != nil {
			v.cfg.Logger.Warn("auth: skipping unusable signing key", "kid", k.Kid, "err", err)
			continue
		}
		keys[k.Kid] = &signingKey{pub: pub, endorsements: append([]string(nil), k.Endorsements...)}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no usable RSA keys")
	}
	return keys, nil
}

func (v *Validator) getJSON(ctx context.Context, url string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocBytes))
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxDocBytes {
		return fmt.Errorf("GET %s: document too large", url)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

func (k *jwk) rsaPublicKey() (*rsa.PublicKey, error) {
	var pub *rsa.PublicKey
	switch {
	case k.N != "" && k.E != "":
		n, err := base64.RawURLEncoding.DecodeString(trimPad(k.N))
		if err != nil {
			return nil, fmt.Errorf("modulus: %w", err)
		}
		e, err := base64.RawURLEncoding.DecodeString(trimPad(k.E))
		if err != nil {
			return nil, fmt.Errorf("exponent: %w", err)
		}
		if len(e) == 0 || len(e) > 4 {
			return nil, errors.New("exponent out of range")
		}
		var ev int
		for _, b := range e {
			ev = ev<<8 | int(b)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	case len(k.X5C) > 0:
		der, err := base64.StdEncoding.DecodeString(k.X5C[0])
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		p, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("x5c: not an RSA key")
		}
		pub = p
	default:
		return nil, errors.New("no key material")
	}
	if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
		return nil, errors.New("weak RSA key")
	}
	return pub, nil
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// fetchKeysSafely is fetchKeys on runFetch's own goroutine, where a panic
// (in the HTTP client or a parser) would end the process: it becomes a
// failed fetch instead, and the request is refused as with any fetch error.
func (v *Validator) fetchKeysSafely(ctx context.Context) (keys map[string]*signingKey, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("auth: fetching signing keys panicked: %v", p)
		}
	}()
	return v.fetchKeys(ctx)
}
