package clients

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseURLList reads a list of URLs as an admin types it, one a line or
// separated by commas, and checks each by the rule of field: callbacks and
// logout_urls take URLs, web_origins takes origins. Blank entries are
// dropped and repeats kept once. The error is a *ValidationError for field
// that quotes the first bad entry.
func ParseURLList(field, text string) ([]string, error) {
	check := urlProblem
	switch field {
	case "callbacks", "logout_urls":
	case "web_origins":
		check = originProblem
	default:
		return nil, fmt.Errorf("clients: no URL list is called %q", field)
	}
	var list []string
	for line := range strings.Lines(text) {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" || slices.Contains(list, part) {
				continue
			}
			if p := check(part); p != "" {
				return nil, &ValidationError{field, p}
			}
			list = append(list, part)
		}
	}
	if len(list) > maxURLs {
		return nil, &ValidationError{field, fmt.Sprintf("at most %d are allowed, not %d", maxURLs, len(list))}
	}
	return list, nil
}

// ParseLifetime reads a lifetime as an admin types it: a number of seconds,
// or a duration with a unit (90m, 12h, 30d). Empty is zero, which means "the
// tenant's" wherever a lifetime may be left unset.
func ParseLifetime(field, text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil && n >= 0 && n <= int64(MaxRefreshLifetime/time.Second) {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(text, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 3650 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if d, err := time.ParseDuration(text); err == nil && d >= 0 {
		return d, nil
	}
	return 0, &ValidationError{field, fmt.Sprintf("%q is not a duration: write seconds (3600) or a number with a unit (90m, 12h, 30d)", text)}
}

// FormatLifetime writes a lifetime the way ParseLifetime reads it, in the
// largest unit that divides it: 30d, 12h, 90m, 45s.
func FormatLifetime(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// RotateSecret gives a confidential client a new secret and returns it in
// the clear, once. The old secret stops working when the client is stored.
func (c *Client) RotateSecret() (string, error) {
	if c.Public() {
		return "", &ValidationError{"client_secret", fmt.Sprintf("a %s client is public and has no secret to rotate", c.Type)}
	}
	secret, hash := NewSecret()
	c.SecretHash = hash
	return secret, nil
}

// ParseScopeList reads an API's scopes as an admin types them, one a line:
// the scope, an optional colon, then its description ("read:users: Read
// users"). A scope has no spaces, so the first space ends it. The list is
// checked with ValidateScopes.
func ParseScopeList(text string) ([]Scope, error) {
	var scopes []Scope
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		value, desc, _ := strings.Cut(line, " ")
		value = strings.TrimSuffix(value, ":")
		scopes = append(scopes, Scope{Value: value, Description: strings.TrimSpace(desc)})
	}
	if err := ValidateScopes(scopes); err != nil {
		return nil, err
	}
	return scopes, nil
}

// FormatScopeList writes scopes the way ParseScopeList reads them.
func FormatScopeList(scopes []Scope) string {
	var b strings.Builder
	for _, s := range scopes {
		b.WriteString(s.Value)
		if s.Description != "" {
			b.WriteString(": " + s.Description)
		}
		b.WriteString("\n")
	}
	return b.String()
}
