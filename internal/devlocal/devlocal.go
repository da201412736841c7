// Package devlocal says whether a request comes from the developer's own
// machine: the one rule of dev mode for the bot's /api/messages and the
// staff dashboard alike. Dev mode checks no token and signs staff in
// without OIDC, so it must answer the developer only: a loopback peer, a
// loopback Host (a web page the developer visits can reach a loopback
// port by DNS rebinding, under its own name), and no proxy header (a
// reverse proxy in front would make every request look local).
package devlocal

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ProxyHeaders are the headers a reverse proxy adds; any of them means
// the request may not be local.
var ProxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Real-Ip", "X-Client-Ip", "True-Client-Ip", "Cf-Connecting-Ip"}

// Refusal returns "" for a request from the developer's machine, else why
// not, as a short label for logs and metrics.
func Refusal(r *http.Request) string {
	for _, h := range ProxyHeaders {
		if _, ok := r.Header[h]; ok {
			return "dev_proxy_header"
		}
	}
	if !LoopbackAddr(r.RemoteAddr) {
		return "dev_remote_not_loopback"
	}
	if !LoopbackHost(r.Host) {
		return "dev_host_not_loopback"
	}
	return ""
}

// LoopbackAddr: a peer address (host:port) on a loopback IP.
func LoopbackAddr(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoopbackHost: a Host header naming localhost or a loopback IP, with or
// without a port, and nothing else.
func LoopbackHost(hostport string) bool {
	if hostport == "" {
		return false
	}
	u, err := url.Parse("http://" + hostport + "/")
	if err != nil || u.User != nil || u.Host != hostport {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
