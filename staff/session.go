package staff

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

const (
	sessionCookie = "mfabot_staff"
	loginCookie   = "mfabot_staff_login"
)

// session is what the signed session cookie carries.
type session struct {
	Name    string `json:"n"`           // display name, the actor in the audit log
	UPN     string `json:"u,omitempty"` // preferred_username
	Subject string `json:"s"`           // oid or sub; "dev:<name>" for the dev sign-in
	Method  string `json:"m"`           // oidc | dev
	CSRF    string `json:"c"`
	// AuthTime is when the staff member last authenticated (OIDC
	// auth_time; the dev sign-in's time): account actions need it fresh.
	AuthTime int64 `json:"at,omitempty"`
	Expires  int64 `json:"e"`
}

// loginState carries the OIDC flow's secrets between start and callback.
type loginState struct {
	State    string `json:"st"`
	Nonce    string `json:"no"`
	Verifier string `json:"v"`
	Next     string `json:"nx"`
	Fresh    bool   `json:"f,omitempty"` // asked with max_age (account actions)
	Expires  int64  `json:"e"`
}

type ctxKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("staff: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign returns base64(payload).base64(hmac(purpose|payload)); the purpose
// keeps a login-state cookie from being replayed as a session.
func (s *server) sign(purpose string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(purpose, p)), nil
}

func (s *server) mac(purpose, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var errBadCookie = errors.New("staff: invalid cookie")

func (s *server) verify(purpose, value string, v any) error {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return errBadCookie
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(purpose, p)) {
		return errBadCookie
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errBadCookie
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadCookie
	}
	return nil
}

func (s *server) cookie(name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: path,
		HttpOnly: true, Secure: !s.opt.Dev, SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = s.now().Add(maxAge)
	}
	return c
}

// currentSession returns the valid session of the request, or nil.
func (s *server) currentSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var ss session
	if s.verify("session", c.Value, &ss) != nil {
		return nil
	}
	if s.now().Unix() >= ss.Expires || ss.CSRF == "" || ss.Name == "" {
		return nil
	}
	if ss.Method == "dev" && !s.opt.Dev {
		return nil
	}
	return &ss
}

func (s *server) startSession(w http.ResponseWriter, ss session) error {
	ss.CSRF = randomToken()
	ss.Expires = s.now().Add(sessionTTL).Unix()
	v, err := s.sign("session", ss)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookie, v, prefix, sessionTTL))
	return nil
}

// requireGET lets a signed-in staff member through; others are sent to
// the sign-in page and come back afterwards.
func (s *server) requireGET(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.currentSession(r)
		if ss == nil {
			http.Redirect(w, r, loginPath+"?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// requireAPI is requireGET for the polling endpoints: 401, no redirect.
func (s *server) requireAPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.currentSession(r)
		if ss == nil {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// requirePOST needs a session and the session's CSRF token in the form
// (cross-origin POSTs are already refused by CrossOriginProtection).
func (s *server) requirePOST(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.currentSession(r)
		if ss == nil {
			metricRefused.WithLabelValues("no_session").Inc()
			s.errorPage(w, r, http.StatusForbidden, "Niet aangemeld", "Meld je opnieuw aan en probeer het nog eens.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		token := r.PostFormValue("csrf")
		if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(ss.CSRF)) != 1 {
			s.log.Warn("csrf token missing or wrong", "path", r.URL.Path, "actor", ss.Name)
			metricRefused.WithLabelValues("csrf").Inc()
			s.errorPage(w, r, http.StatusForbidden, "Verzoek geweigerd", "Het formulier was verlopen of niet geldig. Laad de pagina opnieuw en probeer het nog eens.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}
