package clients

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ValidationError names the field of a client or API that breaks a rule and
// says what is wrong in words an admin understands.
type ValidationError struct {
	Field   string // callbacks, logout_urls, web_origins, name, type, client_id, client_secret, identifier, token_lifetime
	Problem string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }

const (
	maxNameLength       = 100
	maxClientIDLength   = 64
	maxURLLength        = 2048
	maxURLs             = 100
	maxIdentifierLength = 255
	MinTokenLifetime    = time.Minute
	MaxTokenLifetime    = 30 * 24 * time.Hour
	MaxIDTokenLifetime  = 30 * 24 * time.Hour
	MaxRefreshLifetime  = 365 * 24 * time.Hour
)

// Validate checks a client before it is stored and returns a
// *ValidationError for the first rule it breaks:
//   - client_id: 1 to 64 letters, digits, '.', '_' or '-';
//   - name: 1 to 100 characters, no control characters;
//   - type: spa, native, web or m2m; spa and native have no secret, web and
//     m2m have one;
//   - callbacks and logout URLs: absolute https URLs (http only for localhost,
//     127.0.0.1 and [::1], RFC 8252's loopback for development), without a
//     fragment, user name or wildcard, at most 2048 characters, at most 100 of
//     each. A client may have no callback yet, as a new application in
//     Auth0's dashboard: it logs no one in until one is set;
//   - web origins: scheme://host[:port] exactly as a browser sends it in the
//     Origin header, under the same https rule;
//   - m2m clients log no user in, so they take no callbacks, logout URLs or
//     web origins;
//   - lifetimes: zero (the tenant's) or within the bounds of Lifetimes.Validate.
func (c Client) Validate() error {
	if p := clientIDProblem(c.ID); p != "" {
		return &ValidationError{"client_id", p}
	}
	if p := nameProblem(c.Name); p != "" {
		return &ValidationError{"name", p}
	}
	if err := c.validateTypeAndSecret(); err != nil {
		return err
	}
	lists := []struct {
		field string
		urls  []string
		check func(string) string
	}{
		{"callbacks", c.Callbacks, urlProblem},
		{"logout_urls", c.LogoutURLs, urlProblem},
		{"web_origins", c.WebOrigins, originProblem},
	}
	for _, l := range lists {
		if c.Type == M2M && len(l.urls) > 0 {
			return &ValidationError{l.field, "a machine-to-machine client logs no user in, so it takes none"}
		}
		if len(l.urls) > maxURLs {
			return &ValidationError{l.field, fmt.Sprintf("at most %d are allowed, not %d", maxURLs, len(l.urls))}
		}
		for _, u := range l.urls {
			if p := l.check(u); p != "" {
				return &ValidationError{l.field, p}
			}
		}
	}
	if err := c.Lifetimes.Validate(c.Type); err != nil {
		return err
	}
	switch c.MFAPolicy {
	case "", "never", "adaptive", "always", PolicyPhishingResistant:
	default:
		return &ValidationError{"mfa_policy", fmt.Sprintf("%q is not a policy: use never, adaptive, always, phishing_resistant, or leave it empty to follow the tenant", c.MFAPolicy)}
	}
	return nil
}

func (c Client) validateTypeAndSecret() error {
	switch c.Type {
	case SPA, Native:
		if c.SecretHash != nil {
			return &ValidationError{"client_secret", fmt.Sprintf("a %s client is public and must not have a secret", c.Type)}
		}
	case Web, M2M:
		if len(c.SecretHash) != sha256.Size {
			return &ValidationError{"client_secret", fmt.Sprintf("a %s client needs a secret", c.Type)}
		}
	default:
		return &ValidationError{"type", fmt.Sprintf("%q is not a client type; use spa, native, web or m2m", c.Type)}
	}
	return nil
}

// Validate checks an API before it is stored: the identifier (the audience)
// is 1 to 255 characters without spaces or control characters — a URL is
// customary but not required, as in Auth0; the name is 1 to 100 characters;
// tokens last between a minute and 30 days.
func (a API) Validate() error {
	switch n := utf8.RuneCountInString(a.Identifier); {
	case a.Identifier == "":
		return &ValidationError{"identifier", "must not be empty"}
	case hasSpaceOrControl(a.Identifier):
		return &ValidationError{"identifier", fmt.Sprintf("%q must not contain spaces or control characters", a.Identifier)}
	case n > maxIdentifierLength:
		return &ValidationError{"identifier", fmt.Sprintf("must be at most %d characters, not %d", maxIdentifierLength, n)}
	}
	if p := nameProblem(a.Name); p != "" {
		return &ValidationError{"name", p}
	}
	if a.TokenLifetime < MinTokenLifetime || a.TokenLifetime > MaxTokenLifetime {
		return &ValidationError{"token_lifetime", fmt.Sprintf("must be between 1 minute and 30 days, not %v", a.TokenLifetime)}
	}
	return nil
}

func clientIDProblem(id string) string {
	if id == "" {
		return "must not be empty"
	}
	if len(id) > maxClientIDLength {
		return fmt.Sprintf("must be at most %d characters, not %d", maxClientIDLength, len(id))
	}
	for _, r := range id {
		if !(r < utf8.RuneSelf && (strings.ContainsRune(idAlphabet, r) || r == '.' || r == '_' || r == '-')) {
			return fmt.Sprintf("%q may contain only letters, digits, '.', '_' and '-'", id)
		}
	}
	return ""
}

func nameProblem(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return "must not be empty"
	case n > maxNameLength:
		return fmt.Sprintf("must be at most %d characters, not %d", maxNameLength, n)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

// urlProblem checks a callback or logout URL; "" means it is acceptable.
func urlProblem(raw string) string {
	if _, p := parseAllowedURL(raw); p != "" {
		return p
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must not contain a fragment (#...)", raw)
	}
	return ""
}

// originProblem checks a web origin; "" means it is acceptable.
func originProblem(raw string) string {
	u, p := parseAllowedURL(raw)
	if p != "" {
		return p
	}
	if u.Path != "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return fmt.Sprintf("%q must be an origin, scheme://host[:port], with no path, query or trailing slash", raw)
	}
	if want := browserOrigin(u); raw != want {
		return fmt.Sprintf("%q must be written as browsers send it: %q", raw, want)
	}
	return ""
}

// parseAllowedURL applies the rules callbacks, logout URLs and web origins
// share.
func parseAllowedURL(raw string) (*url.URL, string) {
	switch {
	case raw == "":
		return nil, "an empty URL is not allowed"
	case len(raw) > maxURLLength:
		return nil, fmt.Sprintf("a URL of %d characters is too long; at most %d are allowed", len(raw), maxURLLength)
	case hasSpaceOrControl(raw):
		return nil, fmt.Sprintf("%q must not contain spaces or control characters", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Sprintf("%q must be an absolute URL such as https://app.example.com/callback", raw)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, fmt.Sprintf("%q must be an https URL (http is allowed only for localhost)", raw)
	}
	if u.User != nil {
		return nil, fmt.Sprintf("%q must not contain a user name or password", raw)
	}
	if strings.Contains(u.Host, "*") {
		return nil, fmt.Sprintf("%q has a wildcard; wildcards are not supported, list each URL exactly", raw)
	}
	return u, ""
}

// browserOrigin is u's origin as a browser serializes it: lower-case scheme
// and host, no default port.
func browserOrigin(u *url.URL) string {
	host := strings.TrimSuffix(strings.ToLower(u.Host), ":")
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return u.Scheme + "://" + host
}

func isLoopback(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

func hasSpaceOrControl(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

// Validate checks an application's lifetimes: each is zero (the tenant's) or
// between a minute and its maximum (30 days for ID tokens, a year for refresh
// tokens); a refresh token's idle lifetime cannot outlast its absolute one;
// an m2m client gets neither ID nor refresh tokens, so it sets none.
func (l Lifetimes) Validate(t Type) error {
	checks := []struct {
		field string
		d     time.Duration
		max   time.Duration
	}{
		{"id_token_lifetime", l.IDToken, MaxIDTokenLifetime},
		{"refresh_idle_lifetime", l.RefreshIdle, MaxRefreshLifetime},
		{"refresh_absolute_lifetime", l.RefreshAbsolute, MaxRefreshLifetime},
	}
	for _, c := range checks {
		if c.d == 0 {
			continue
		}
		if t == M2M {
			return &ValidationError{c.field, "a machine-to-machine client gets no ID or refresh tokens, so it sets no lifetime for them"}
		}
		if c.d < MinTokenLifetime || c.d > c.max {
			return &ValidationError{c.field, fmt.Sprintf("must be between 1 minute and %s, not %s", FormatLifetime(c.max), FormatLifetime(c.d))}
		}
	}
	if l.RefreshIdle > 0 && l.RefreshAbsolute > 0 && l.RefreshIdle > l.RefreshAbsolute {
		return &ValidationError{"refresh_idle_lifetime", "must not be longer than the absolute lifetime, which ends every refresh token anyway"}
	}
	return nil
}

// ValidateNew checks an API about to be created: Validate's rules, and an
// identifier that is an absolute URI (https://api.example.com or
// urn:example:orders), which keeps audiences unambiguous across tenants and
// tools. APIs stored before this rule keep their identifiers.
func (a API) ValidateNew() error {
	if err := a.Validate(); err != nil {
		return err
	}
	u, err := url.Parse(a.Identifier)
	if err != nil || u.Scheme == "" || (u.Opaque == "" && u.Host == "") {
		return &ValidationError{"identifier", fmt.Sprintf("%q must be an absolute URI such as https://api.example.com", a.Identifier)}
	}
	if strings.Contains(a.Identifier, "#") {
		return &ValidationError{"identifier", fmt.Sprintf("%q must not contain a fragment (#...)", a.Identifier)}
	}
	return nil
}
