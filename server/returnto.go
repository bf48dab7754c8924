package server

import (
	"net/url"
	"strings"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeReturnTo keeps return_to only when it is a path on this server under the
// issuer path; anything else (another host, a scheme, "//evil", a backslash
// trick) would make the login page an open redirect.
func (s *Server) safeReturnTo(raw string) string {
	if raw == "" || len(raw) > 2048 || !strings.HasPrefix(raw, s.base) ||
		strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return raw
}

// afterLogin is where a browser goes once logged in.
func (s *Server) afterLogin(returnTo string) string {
	if rt := s.safeReturnTo(returnTo); rt != "" {
		return rt
	}
	return s.base + "account"
}
