package devlocal

import (
	"net/http/httptest"
	"testing"
)

func TestRefusal(t *testing.T) {
	for _, c := range []struct {
		name, remote, host, header, want string
	}{
		{"the developer", "127.0.0.1:5000", "127.0.0.1:3978", "", ""},
		{"localhost by name", "[::1]:5000", "localhost:3978", "", ""},
		{"another machine", "192.168.1.20:5000", "127.0.0.1:3978", "", "dev_remote_not_loopback"},
		{"DNS rebinding", "127.0.0.1:5000", "evil.example.com:3978", "", "dev_host_not_loopback"},
		{"a Host with user info", "127.0.0.1:5000", "x@127.0.0.1", "", "dev_host_not_loopback"},
		{"no Host", "127.0.0.1:5000", "", "", "dev_host_not_loopback"},
		{"behind a proxy", "127.0.0.1:5000", "127.0.0.1:3978", "X-Forwarded-For", "dev_proxy_header"},
		{"behind Cloudflare", "127.0.0.1:5000", "127.0.0.1:3978", "Cf-Connecting-Ip", "dev_proxy_header"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		if c.header != "" {
			r.Header.Set(c.header, "203.0.113.9")
		}
		if got := Refusal(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
