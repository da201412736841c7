package config

import (
	"strings"
	"testing"
)

func TestPublicHelpKeys(t *testing.T) {
	clearEnv(t)
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HTTP.PublicHelp || c.HTTP.PublicHelpURL != "" {
		t.Errorf("defaults: public_help=%v url=%q", c.HTTP.PublicHelp, c.HTTP.PublicHelpURL)
	}
	if got := c.HTTP.TrustedProxyPrefixes(); len(got) != 2 || got[0].String() != "127.0.0.1/32" || got[1].String() != "::1/128" {
		t.Errorf("trusted proxies default = %v, want loopback", got)
	}
	if c.Manifest.WebsiteURL != PlaceholderURL {
		t.Errorf("website_url = %q without a help page URL", c.Manifest.WebsiteURL)
	}

	clearEnv(t)
	t.Setenv("MFABOT_HTTP_PUBLIC_HELP", "false")
	t.Setenv("MFABOT_HTTP_PUBLIC_HELP_URL", "https://hulp.example.nl/hulp")
	t.Setenv("MFABOT_HTTP_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
	c, err = Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.PublicHelp {
		t.Error("MFABOT_HTTP_PUBLIC_HELP=false not applied")
	}
	if c.Manifest.WebsiteURL != "https://hulp.example.nl/hulp" {
		t.Errorf("the manifest's website URL = %q, want the help page", c.Manifest.WebsiteURL)
	}
	if got := c.HTTP.TrustedProxyPrefixes(); len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "192.0.2.7/32" {
		t.Errorf("trusted proxies = %v", got)
	}

	// A website the school set stays.
	clearEnv(t)
	t.Setenv("MFABOT_HTTP_PUBLIC_HELP_URL", "https://hulp.example.nl/hulp")
	t.Setenv("MFABOT_MANIFEST_WEBSITE_URL", "https://www.example.nl/ict")
	if c, err = Load(""); err != nil || c.Manifest.WebsiteURL != "https://www.example.nl/ict" {
		t.Errorf("website_url = %q (%v), want the school's", c.Manifest.WebsiteURL, err)
	}
}

func TestPublicHelpValidation(t *testing.T) {
	prod := map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_ID": "a", "MFABOT_BOT_APP_PASSWORD": "p", "MFABOT_BOT_TENANT_ID": "t"}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"relative url", map[string]string{"MFABOT_HTTP_PUBLIC_HELP_URL": "/hulp"}, "http.public_help_url"},
		{"javascript url", map[string]string{"MFABOT_HTTP_PUBLIC_HELP_URL": "javascript:alert(1)"}, "http.public_help_url"},
		{"user in url", map[string]string{"MFABOT_HTTP_PUBLIC_HELP_URL": "https://a:b@hulp.example.nl/hulp"}, "http.public_help_url"},
		{"http in production", merge(prod, map[string]string{"MFABOT_HTTP_PUBLIC_HELP_URL": "http://hulp.example.nl/hulp"}), "must use https"},
		{"bad proxy", map[string]string{"MFABOT_HTTP_TRUSTED_PROXIES": "10.0.0.0/33"}, "http.trusted_proxies"},
		{"host name as proxy", map[string]string{"MFABOT_HTTP_TRUSTED_PROXIES": "proxy.example.nl"}, "http.trusted_proxies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load("")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}
