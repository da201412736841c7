package public

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Accept-Language, X-Forwarded-For and the peer address come from
// outside: any value gives a known language and never a panic.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("nl-NL,nl;q=0.9", "192.0.2.1, 10.0.0.1", "127.0.0.1:1", "en")
	f.Add("*;q=0.5,en-US;q=abc", "garbage,,", "[::1]:80", "xx")
	f.Add("", "2001:db8::1", "[2001:db8::2]:1", "")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, accept, xff, remote, q string) {
		r := httptest.NewRequest(http.MethodGet, "/hulp", nil)
		r.URL.RawQuery = "lang=" + q
		r.Header.Set("Accept-Language", accept)
		r.Header.Set("X-Forwarded-For", xff)
		r.RemoteAddr = remote
		if lang, _ := pickLang(r, "nl"); lang != "nl" && lang != "en" {
			t.Fatalf("language %q", lang)
		}
		if a, ok := clientKey(r, trusted); ok && !a.IsValid() {
			t.Fatalf("invalid key for %q %q", remote, xff)
		}
	})
}
