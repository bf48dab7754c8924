package clients

import (
	"context"
	"fmt"
	"regexp"
	"slices"
)

// Scope is a permission an API defines; access tokens for the API carry the
// scopes they were granted.
type Scope struct {
	Value       string // e.g. "read:users"
	Description string
}

// Grant lets a machine-to-machine client ask for an API's access tokens with
// some of its scopes. An API that defines scopes issues client-credentials
// tokens only to clients it has a grant for, as Auth0 does.
type Grant struct {
	ClientID string
	APIID    string
	Audience string // the API's identifier, filled in when read
	Scopes   []string
}

// GrantStore keeps scopes and grants; package store implements it.
type GrantStore interface {
	// APIScopes lists an API's scopes, ordered by value.
	APIScopes(ctx context.Context, apiID string) ([]Scope, error)
	// SetAPIScopes replaces an API's scopes; grants lose scopes that are gone.
	SetAPIScopes(ctx context.Context, apiID string, scopes []Scope) error
	// GrantsOf lists the grants of a client.
	GrantsOf(ctx context.Context, clientID string) ([]Grant, error)
	// GrantFor returns the client's grant for the API with this identifier,
	// or ErrNotFound.
	GrantFor(ctx context.Context, clientID, audience string) (Grant, error)
	// SetGrant creates or replaces a grant.
	SetGrant(ctx context.Context, g Grant) error
	// DeleteGrant removes a grant or answers ErrNotFound.
	DeleteGrant(ctx context.Context, clientID, apiID string) error
}

var scopeValue = regexp.MustCompile(`^[A-Za-z0-9:._/-]{1,100}$`)

// ValidateScopes checks an API's scope list.
func ValidateScopes(scopes []Scope) error {
	seen := map[string]bool{}
	for _, s := range scopes {
		if !scopeValue.MatchString(s.Value) {
			return &ValidationError{Field: "scopes", Problem: fmt.Sprintf("%q is not a scope: use letters, digits and : . _ / - (e.g. read:users), at most 100", s.Value)}
		}
		if seen[s.Value] {
			return &ValidationError{Field: "scopes", Problem: fmt.Sprintf("%q is listed twice", s.Value)}
		}
		if len(s.Description) > 200 {
			return &ValidationError{Field: "scopes", Problem: fmt.Sprintf("the description of %q is longer than 200 characters", s.Value)}
		}
		seen[s.Value] = true
	}
	return nil
}

// ValidateGrant checks that a grant names only scopes the API defines, and is
// for a machine-to-machine client.
func ValidateGrant(c Client, defined []Scope, scopes []string) error {
	if c.Type != M2M {
		return &ValidationError{Field: "client_id", Problem: "only machine-to-machine applications get grants"}
	}
	for _, s := range scopes {
		if !slices.ContainsFunc(defined, func(d Scope) bool { return d.Value == s }) {
			return &ValidationError{Field: "scopes", Problem: fmt.Sprintf("%q is not a scope of this API", s)}
		}
	}
	return nil
}

// GrantedScopes is what a client-credentials token gets: the requested
// scopes the grant allows, or every granted scope when none was requested.
// A requested scope outside the grant is refused, not silently dropped.
func GrantedScopes(g Grant, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(g.Scopes), nil
	}
	for _, s := range requested {
		if !slices.Contains(g.Scopes, s) {
			return nil, fmt.Errorf("the application is not granted the scope %q", s)
		}
	}
	return slices.Clone(requested), nil
}
