package connector

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// PublicAuthorityHost is the public cloud's Entra ID authority.
const PublicAuthorityHost = "https://login.microsoftonline.com/"

// CredentialOptions say how the bot gets its outbound (Connector) tokens:
// client credentials of its single-tenant app registration, with a secret
// (Password) or a certificate (CertificatePath, a PEM or PKCS#12 file with
// the certificate and its private key).
type CredentialOptions struct {
	AppID           string
	Password        string
	CertificatePath string
	// CertificatePassword decrypts a PKCS#12 CertificatePath; optional.
	CertificatePassword string
	// TenantID is the bot's own tenant (single-tenant bot).
	TenantID string
	// AuthorityHost is the Entra ID authority; default PublicAuthorityHost.
	// Any other host disables MSAL's instance discovery, which would ask
	// login.microsoftonline.com and fails offline and in other clouds.
	AuthorityHost string
	// Transport carries the token requests (tests pass an *http.Client
	// that trusts their fake's CA); nil means azcore's default. A concrete
	// type on purpose: a nil *http.Client in an interface field is not
	// nil, and azcore would call Do on it.
	Transport *http.Client
	// Retry tunes azcore's retries of token requests; zero = azcore's defaults.
	Retry policy.RetryOptions
}

// NewCredential builds the token credential for the Connector client.
func NewCredential(o CredentialOptions) (azcore.TokenCredential, error) {
	if o.AppID == "" || o.TenantID == "" {
		return nil, errors.New("connector: credential needs the app id and the tenant id")
	}
	if (o.Password == "") == (o.CertificatePath == "") {
		return nil, errors.New("connector: credential needs exactly one of app password and certificate path")
	}
	host := o.AuthorityHost
	if host == "" {
		host = PublicAuthorityHost
	}
	if !strings.HasPrefix(strings.ToLower(host), "https://") {
		return nil, fmt.Errorf("connector: authority host must be https")
	}
	if !strings.HasSuffix(host, "/") {
		host += "/"
	}
	client := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: host, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Retry: o.Retry,
	}
	if o.Transport != nil {
		client.Transport = o.Transport
	}
	disableDiscovery := !strings.EqualFold(host, PublicAuthorityHost)
	if o.Password != "" {
		cred, err := azidentity.NewClientSecretCredential(o.TenantID, o.AppID, o.Password, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            client,
			DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("connector: client secret credential: %w", err)
		}
		return cred, nil
	}
	data, err := os.ReadFile(o.CertificatePath)
	if err != nil {
		return nil, fmt.Errorf("connector: read certificate: %w", err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte(o.CertificatePassword))
	if err != nil {
		return nil, fmt.Errorf("connector: parse certificate %s: %w", o.CertificatePath, err)
	}
	cred, err := azidentity.NewClientCertificateCredential(o.TenantID, o.AppID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            client,
		DisableInstanceDiscovery: disableDiscovery,
	})
	if err != nil {
		return nil, fmt.Errorf("connector: client certificate credential: %w", err)
	}
	return cred, nil
}
