// Package msgraph implements graph.Directory with Microsoft Graph through
// msgraph-sdk-go and azidentity credentials. It is the only package that
// imports the SDK (a cold compile of it costs minutes), and it only reads:
// the user, the registered sign-in methods and the registration report.
package msgraph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"mfabot/graph"
)

// Defaults for the Config fields left empty.
const (
	DefaultBaseURL       = "https://graph.microsoft.com/v1.0"
	DefaultScope         = "https://graph.microsoft.com/.default"
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	DefaultTimeout       = 5 * time.Second
)

// maxRetries is how often a 429/503/504 is retried (within the deadline).
const maxRetries = 2

// maxPages caps how many pages of methods are followed.
const maxPages = 5

var (
	callsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_graph_calls_total",
		Help: "Microsoft Graph calls by call (user, methods, registration_details) and outcome (ok, forbidden, not_found, throttled, unavailable).",
	}, []string{"call", "outcome"})
	callSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mfabot_graph_call_duration_seconds",
		Help:    "Latency of Microsoft Graph calls, retries included.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10},
	}, []string{"call"})
	retriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_graph_retries_total",
		Help: "Microsoft Graph requests retried (decision=retry) or not retried because the deadline or the retry limit left no room (decision=give_up), by HTTP status.",
	}, []string{"status", "decision"})
)

// Config configures the Graph directory. Empty fields take the defaults
// above; exactly one of ClientSecret and CertificatePath is required.
type Config struct {
	BaseURL         string // graph.base_url, e.g. https://graph.microsoft.com/v1.0
	Scope           string // graph.scope, e.g. https://graph.microsoft.com/.default
	TenantID        string
	ClientID        string
	ClientSecret    string
	CertificatePath string // PEM (or PKCS#12 without password) with certificate and private key
	AuthorityHost   string // azure.authority_host
	// Transport carries every request (token and Graph); tests pass a
	// client that trusts their fake CA. Nil means a default transport.
	Transport *http.Client
	Timeout   time.Duration // per call when the context has no deadline
	Logger    *slog.Logger
}

// Directory reads students' accounts from Microsoft Graph.
type Directory struct {
	client  *msgraphsdk.GraphServiceClient
	log     *slog.Logger
	timeout time.Duration
}

var _ graph.Directory = (*Directory)(nil)

// New builds the Graph client: azidentity credentials (client secret or
// certificate) for the configured authority, a token provider that
// attaches tokens only for the base URL's host and with the configured
// scope, and a retry policy that never waits past the call's deadline.
func New(cfg Config) (*Directory, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme != "https" || base.Hostname() == "" {
		return nil, fmt.Errorf("msgraph: graph.base_url must be an https URL, got %q", cfg.BaseURL)
	}
	authority, err := url.Parse(cfg.AuthorityHost)
	if err != nil || authority.Scheme != "https" || authority.Hostname() == "" {
		return nil, fmt.Errorf("msgraph: azure.authority_host must be an https URL, got %q", cfg.AuthorityHost)
	}
	if cfg.TenantID == "" || cfg.ClientID == "" {
		return nil, errors.New("msgraph: graph.tenant_id and graph.client_id are required")
	}

	cred, err := credential(cfg, authority)
	if err != nil {
		return nil, err
	}
	authProvider, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, []string{cfg.Scope}, []string{strings.ToLower(base.Hostname())})
	if err != nil {
		return nil, fmt.Errorf("msgraph: auth provider: %w", err)
	}

	dt := http.DefaultTransport.(*http.Transport).Clone()
	dt.MaxIdleConnsPerHost = 64 // concurrent turns read Graph at once: no handshake per burst
	var parent http.RoundTripper = dt
	if cfg.Transport != nil && cfg.Transport.Transport != nil {
		parent = cfg.Transport.Transport
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	middleware := []khttp.Middleware{
		core.NewGraphTelemetryHandler(&opts),
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
			ShouldRetry:  shouldRetry,
			MaxRetries:   maxRetries,
			DelaySeconds: 1,
		}),
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, middleware...),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authProvider, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("msgraph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(base.String())
	return &Directory{
		client:  msgraphsdk.NewGraphServiceClient(adapter),
		log:     cfg.Logger,
		timeout: cfg.Timeout,
	}, nil
}

// credential builds the azidentity credential. Instance discovery is
// turned off for any authority but the public cloud's: it would ask
// login.microsoftonline.com, which fails offline and in other clouds.
func credential(cfg Config, authority *url.URL) (azcore.TokenCredential, error) {
	co := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority.String()},
		// One quick retry: a token endpoint that is down must not eat the
		// whole turn's deadline (azcore's default backs off for seconds).
		Retry: policy.RetryOptions{MaxRetries: 1, RetryDelay: 300 * time.Millisecond, MaxRetryDelay: time.Second},
	}
	if cfg.Transport != nil {
		co.Transport = cfg.Transport
	}
	disableDiscovery := !strings.EqualFold(authority.Hostname(), "login.microsoftonline.com")
	switch {
	case cfg.ClientSecret != "" && cfg.CertificatePath != "":
		return nil, errors.New("msgraph: set either a client secret or a certificate, not both")
	case cfg.ClientSecret != "":
		c, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
		if err != nil {
			return nil, fmt.Errorf("msgraph: client secret credential: %w", err)
		}
		return c, nil
	case cfg.CertificatePath != "":
		data, err := os.ReadFile(cfg.CertificatePath)
		if err != nil {
			return nil, fmt.Errorf("msgraph: read certificate: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, nil)
		if err != nil {
			return nil, fmt.Errorf("msgraph: parse certificate %s: %w", cfg.CertificatePath, err)
		}
		c, err := azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
		if err != nil {
			return nil, fmt.Errorf("msgraph: certificate credential: %w", err)
		}
		return c, nil
	default:
		return nil, errors.New("msgraph: a client secret or a certificate is required")
	}
}

// shouldRetry decides whether a 429/503/504 is retried: only when the
// wait (Retry-After, or the handler's back-off of about 2^n seconds plus
// up to a second of jitter) ends before the request's deadline.
func shouldRetry(_ time.Duration, executionCount int, req *http.Request, resp *http.Response) bool {
	status := strconv.Itoa(resp.StatusCode)
	wait := time.Duration(1<<executionCount)*time.Second + time.Second
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 {
			wait = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			wait = time.Until(t)
		}
	}
	if deadline, ok := req.Context().Deadline(); ok && time.Until(deadline) <= wait {
		retriesTotal.WithLabelValues(status, "give_up").Inc()
		return false
	}
	retriesTotal.WithLabelValues(status, "retry").Inc()
	return true
}

// objectID is the shape of an Entra object id; nothing else is looked up.
var objectID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// call runs fn under a deadline and maps its error; it records metrics
// and logs the cause of a failure.
func (d *Directory) call(ctx context.Context, name, userID string, fn func(context.Context) error) error {
	if !objectID.MatchString(userID) {
		callsTotal.WithLabelValues(name, "not_found").Inc()
		return fmt.Errorf("graph: %s: %q is not an object id: %w", name, userID, graph.ErrNotFound)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	start := time.Now()
	err := fn(ctx)
	callSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if err == nil {
		callsTotal.WithLabelValues(name, "ok").Inc()
		d.log.DebugContext(ctx, "graph call ok", "call", name, "user", userID,
			"elapsed", time.Since(start).Round(time.Millisecond))
		return nil
	}
	sentinel, outcome, cause := classify(ctx, err)
	callsTotal.WithLabelValues(name, outcome).Inc()
	d.log.WarnContext(ctx, "graph call failed", "call", name, "user", userID, "outcome", outcome,
		"cause", cause, "elapsed", time.Since(start).Round(time.Millisecond))
	return fmt.Errorf("graph: %s for %s: %s: %w", name, userID, cause, sentinel)
}

// classify maps an SDK error to the graph sentinel, a metric outcome and a
// cause for the log. It never calls Error() on an ODataError (that panics
// when the body lacked error.message).
func classify(ctx context.Context, err error) (sentinel error, outcome, cause string) {
	status := 0
	var apiErr abs.ApiErrorable
	if errors.As(err, &apiErr) {
		status = apiErr.GetStatusCode()
	}
	if status != 0 {
		cause = "status " + strconv.Itoa(status) + odataDetail(err)
		switch {
		case status == http.StatusForbidden || status == http.StatusUnauthorized:
			return graph.ErrForbidden, "forbidden", cause
		case status == http.StatusNotFound:
			return graph.ErrNotFound, "not_found", cause
		case status == http.StatusTooManyRequests:
			if ra := retryAfter(apiErr); ra != "" {
				cause += " (Retry-After " + ra + ")"
			}
			return graph.ErrThrottled, "throttled", cause
		default:
			return graph.ErrUnavailable, "unavailable", cause
		}
	}
	var odataErr *odataerrors.ODataError
	if errors.As(err, &odataErr) {
		return graph.ErrUnavailable, "unavailable", "odata error" + odataDetail(err)
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		code := ""
		if authErr.RawResponse != nil {
			code = " (token endpoint status " + strconv.Itoa(authErr.RawResponse.StatusCode) + ")"
		}
		return graph.ErrUnavailable, "unavailable", "token request failed" + code
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return graph.ErrUnavailable, "unavailable", "deadline exceeded"
	}
	return graph.ErrUnavailable, "unavailable", firstLine(err.Error())
}

// odataDetail returns " code: message" from a checked ODataError.
func odataDetail(err error) string {
	var o *odataerrors.ODataError
	if !errors.As(err, &o) {
		return ""
	}
	main := o.GetErrorEscaped()
	if main == nil {
		return ""
	}
	var b strings.Builder
	if c := main.GetCode(); c != nil && *c != "" {
		b.WriteString(" " + *c)
	}
	if m := main.GetMessage(); m != nil && *m != "" {
		b.WriteString(": " + firstLine(*m))
	}
	return b.String()
}

func retryAfter(e abs.ApiErrorable) string {
	h := e.GetResponseHeaders()
	if h == nil {
		return ""
	}
	for _, k := range []string{"Retry-After", "retry-after"} {
		if v := h.Get(k); len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// User reads the student's display name, UPN and preferred language.
func (d *Directory) User(ctx context.Context, userID string) (graph.User, error) {
	var u graph.User
	err := d.call(ctx, "user", userID, func(ctx context.Context) error {
		res, err := d.client.Users().ByUserId(userID).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "userPrincipalName", "preferredLanguage"},
			},
		})
		if err != nil {
			return err
		}
		if res == nil {
			return errors.New("empty user response")
		}
		u = graph.User{
			ID:                userID,
			DisplayName:       deref(res.GetDisplayName()),
			UserPrincipalName: deref(res.GetUserPrincipalName()),
			PreferredLanguage: deref(res.GetPreferredLanguage()),
		}
		return nil
	})
	return u, err
}

// Methods lists the student's registered sign-in methods. Phone numbers
// are masked here and the full number is not kept.
func (d *Directory) Methods(ctx context.Context, userID string) ([]graph.Method, error) {
	var out []graph.Method
	err := d.call(ctx, "methods", userID, func(ctx context.Context) error {
		out = out[:0]
		rb := d.client.Users().ByUserId(userID).Authentication().Methods()
		for page := 0; ; page++ {
			res, err := rb.Get(ctx, nil)
			if err != nil {
				return err
			}
			if res == nil {
				return errors.New("empty methods response")
			}
			for _, m := range res.GetValue() {
				if m != nil {
					out = append(out, mapMethod(m))
				}
			}
			next := res.GetOdataNextLink()
			if next == nil || *next == "" {
				return nil
			}
			if page+1 >= maxPages {
				return fmt.Errorf("more than %d pages of methods", maxPages)
			}
			rb = rb.WithUrl(*next)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mapMethod turns one SDK method into a graph.Method; unknown types are
// kept as KindOther with their @odata.type.
func mapMethod(m models.AuthenticationMethodable) graph.Method {
	gm := graph.Method{ID: deref(m.GetId())}
	switch v := m.(type) {
	case *models.MicrosoftAuthenticatorAuthenticationMethod:
		gm.Kind = graph.KindAuthenticator
		gm.DisplayName = deref(v.GetDisplayName())
		gm.AppVersion = deref(v.GetPhoneAppVersion())
	case *models.PhoneAuthenticationMethod:
		gm.Kind = graph.KindPhone
		gm.PhoneMasked = graph.MaskPhone(deref(v.GetPhoneNumber()))
		if t := v.GetPhoneType(); t != nil && *t <= models.UNKNOWNFUTUREVALUE_AUTHENTICATIONPHONETYPE {
			gm.PhoneType = t.String()
		}
	case *models.Fido2AuthenticationMethod:
		// A passkey in Authenticator or a security key: the aaGuid tells.
		gm.Kind = graph.KindFIDO2
		gm.DisplayName = deref(v.GetDisplayName())
		gm.AAGUID = deref(v.GetAaGuid())
		gm.Model = deref(v.GetModel())
		if t := v.GetCreatedDateTime(); t != nil {
			gm.CreatedAt = t.UTC()
		}
	case *models.WindowsHelloForBusinessAuthenticationMethod:
		gm.Kind = graph.KindWindowsHello
		gm.DisplayName = deref(v.GetDisplayName())
	case *models.SoftwareOathAuthenticationMethod:
		gm.Kind = graph.KindSoftwareOATH
	case *models.EmailAuthenticationMethod:
		gm.Kind = graph.KindEmail
	case *models.TemporaryAccessPassAuthenticationMethod:
		gm.Kind = graph.KindTAP
	case *models.PasswordAuthenticationMethod:
		gm.Kind = graph.KindPassword
	default:
		gm.Kind = graph.KindOther
		gm.ODataType = strings.TrimPrefix(deref(m.GetOdataType()), "#")
	}
	return gm
}

// RegistrationDetails reads the registration report (AuditLog.Read.All and
// Entra ID P1/P2 needed; it may be stale: the methods list is the truth).
// A directory without the permission returns graph.ErrForbidden.
func (d *Directory) RegistrationDetails(ctx context.Context, userID string) (graph.RegistrationDetails, error) {
	var rd graph.RegistrationDetails
	err := d.call(ctx, "registration_details", userID, func(ctx context.Context) error {
		res, err := d.client.Reports().AuthenticationMethods().UserRegistrationDetails().
			ByUserRegistrationDetailsId(userID).Get(ctx, nil)
		if err != nil {
			return err
		}
		if res == nil {
			return errors.New("empty registration details response")
		}
		rd = graph.RegistrationDetails{
			IsAdmin:           deref(res.GetIsAdmin()),
			IsMFARegistered:   deref(res.GetIsMfaRegistered()),
			MethodsRegistered: res.GetMethodsRegistered(),
		}
		if t := res.GetLastUpdatedDateTime(); t != nil {
			rd.LastUpdated = *t
		}
		return nil
	})
	return rd, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

var _ graph.RegistrationReader = (*Directory)(nil)
