// Package claims is custom claims without code: per application, an admin
// maps a user attribute to a namespaced claim in the ID token, the access
// token or both, as an Auth0 Action adding
// api.idToken.setCustomClaim("https://example.com/roles", …) would.
//
// A claim's name must be an http or https URL with a host
// (https://example.com/roles): a name of that form can never be a claim an
// OpenID, JWT or OAuth specification registers (iss, sub, aud, scope,
// permissions, …), nor one a later specification adds. Auth0 now also
// accepts plain names outside a deny-list; Gatehouse does not, so nothing an
// admin maps can shadow a claim a library checks.
//
// A source names what the claim carries:
//
//	email, email_verified, name, nickname, user_id   the user's profile
//	roles                                            the names of the user's roles
//	permissions                                      the user's permissions on the token's API
//	app_metadata.<path>, user_metadata.<path>        a value in the user's metadata
//
// A metadata path is keys joined by dots (app_metadata.billing.plan); a
// path the user's metadata does not have leaves the claim out, as an Auth0
// Action setting an undefined value does.
//
// Custom claims together stay under MaxBytes of JSON per token: a claim
// that would pass it is left out, and the caller logs which.
package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Target says which tokens carry a claim.
type Target string

const (
	IDToken     Target = "id_token"
	AccessToken Target = "access_token"
	Both        Target = "both"
)

// Mapping puts one source into one claim of an application's tokens.
type Mapping struct {
	Claim  string // e.g. https://example.com/roles
	Source string // e.g. roles
	Target Target
}

// In reports whether the mapping applies to tokens of kind t (IDToken or
// AccessToken).
func (m Mapping) In(t Target) bool { return m.Target == Both || m.Target == t }

// Limits.
const (
	// MaxMappings bounds one application's custom claims.
	MaxMappings = 20
	// MaxBytes bounds the JSON of one token's custom claims together: 4 KiB
	// keeps a token with them well under the 8 KiB many servers and proxies
	// take in one request header.
	MaxBytes = 4096
)

// Sources are the attributes a claim may carry, in the order an admin is
// offered them.
var Sources = []string{"email", "email_verified", "name", "nickname", "user_id", "roles", "permissions"}

// metadataPrefixes are the sources read from the user's metadata.
var metadataPrefixes = []string{"app_metadata.", "user_metadata."}

// maxPathDepth is the depth metadata may have (account's rule), so a longer
// path can never find a value.
const maxPathDepth = 10

// ValidationError is a refused mapping.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }

// Validate checks an application's mappings.
func Validate(ms []Mapping) error {
	if len(ms) > MaxMappings {
		return &ValidationError{"claims", fmt.Sprintf("an application has at most %d custom claims", MaxMappings)}
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if err := validName(m.Claim); err != nil {
			return err
		}
		if seen[m.Claim] {
			return &ValidationError{"claims", fmt.Sprintf("%q is mapped twice", m.Claim)}
		}
		seen[m.Claim] = true
		if err := validSource(m.Source); err != nil {
			return err
		}
		if m.Target != IDToken && m.Target != AccessToken && m.Target != Both {
			return &ValidationError{"claims", fmt.Sprintf("the token of %q must be id_token, access_token or both", m.Claim)}
		}
	}
	return nil
}

func validName(name string) error {
	u, err := url.Parse(name)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || len(name) > 200 || strings.ContainsAny(name, " \t\r\n") {
		return &ValidationError{"claims", fmt.Sprintf("%q is not a namespaced claim name: use an http(s) URL such as https://example.com/roles (at most 200 characters); plain names are kept for registered claims", name)}
	}
	return nil
}

func validSource(source string) error {
	for _, p := range metadataPrefixes {
		if path, ok := strings.CutPrefix(source, p); ok {
			keys := strings.Split(path, ".")
			if len(source) > 200 || len(keys) > maxPathDepth || slices.Contains(keys, "") {
				return &ValidationError{"claims", fmt.Sprintf("%q is not a metadata path: use keys joined by dots, such as %sroles (at most %d keys)", source, p, maxPathDepth)}
			}
			return nil
		}
	}
	if !slices.Contains(Sources, source) {
		return &ValidationError{"claims", fmt.Sprintf("%q is not a source: use one of %s", source, strings.Join(Sources, ", "))}
	}
	return nil
}

// Subject is what the sources read of the user a token is for.
type Subject struct {
	UserID        string
	Email         string
	EmailVerified bool
	Name          string
	Roles         []string // role names
	Permissions   []string // on the token's API; nil without one
	// UserMetadata and AppMetadata are the user's metadata, JSON objects
	// (or empty).
	UserMetadata json.RawMessage
	AppMetadata  json.RawMessage
}

func (s Subject) value(source string) any {
	switch source {
	case "email":
		return s.Email
	case "email_verified":
		return s.EmailVerified
	case "name":
		return s.Name
	case "nickname":
		if at := strings.LastIndexByte(s.Email, '@'); at > 0 {
			return s.Email[:at]
		}
		return s.Email
	case "user_id":
		return s.UserID
	case "roles":
		return nonNil(s.Roles)
	case "permissions":
		return nonNil(s.Permissions)
	}
	if path, ok := strings.CutPrefix(source, "app_metadata."); ok {
		return lookup(s.AppMetadata, path)
	}
	if path, ok := strings.CutPrefix(source, "user_metadata."); ok {
		return lookup(s.UserMetadata, path)
	}
	return nil
}

// lookup finds the value at a dotted path in a JSON object; nil when the
// path is not there (or the metadata cannot be read, which account's
// validation prevents).
func lookup(doc json.RawMessage, path string) any {
	if len(doc) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = obj[key]; !ok {
			return nil
		}
	}
	return v
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// Build returns the custom claims of a token of kind t (IDToken or
// AccessToken), in mapping order while they fit in MaxBytes; the names of
// those left out for size come second.
func Build(ms []Mapping, t Target, s Subject) (map[string]any, []string) {
	out := map[string]any{}
	var dropped []string
	size := 2 // the braces
	for _, m := range ms {
		if !m.In(t) {
			continue
		}
		v := s.value(m.Source)
		if v == nil {
			continue
		}
		b, err := json.Marshal(map[string]any{m.Claim: v})
		if err != nil || size+len(b)-1 > MaxBytes {
			dropped = append(dropped, m.Claim)
			continue
		}
		size += len(b) - 1 // the pair and a comma
		out[m.Claim] = v
	}
	return out, dropped
}

// Store keeps applications' mappings; package store implements it.
type Store interface {
	// ClientClaims lists an application's mappings in the order set.
	ClientClaims(ctx context.Context, clientID string) ([]Mapping, error)
	// SetClientClaims replaces them; ErrNotFound when there is no such
	// application.
	SetClientClaims(ctx context.Context, clientID string, ms []Mapping) error
}

// ErrNotFound is an unknown application.
var ErrNotFound = errors.New("not found")
