// Package roles is role-based access control as Auth0 has it. An API's
// scopes are its permissions; a role groups permissions of any APIs; users
// hold roles. Each API chooses, with two settings, what its user tokens carry:
//
//	Enforce           ("Enable RBAC") a user's access token for the API gets
//	                  only the requested scopes the user holds as permissions;
//	                  the others are dropped, not refused, as in Auth0.
//	TokenPermissions  ("Add Permissions in the Access Token") the token also
//	                  carries "permissions": every permission the user holds
//	                  on that API, requested or not. Only with Enforce.
//
// A token is for one API when either setting is on: permissions of one API
// never reach a token for another. Machine-to-machine tokens keep their
// grants (package clients); with TokenPermissions their granted scopes are
// also listed as "permissions", as Auth0 does.
//
// The rules live here and nowhere else. Service is where administrators
// change roles, their permissions and who holds them, so that the console,
// the admin API and the command line apply one set of rules and write one
// audit shape. Decide says what a token gets. The package knows nothing of
// HTTP or SQL: package store implements Store against Postgres.
package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors the store returns.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// Role groups permissions; users hold roles.
type Role struct {
	ID          string // uuid, assigned by the store
	Name        string // unique, e.g. "editor"
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Permission is one scope of one API.
type Permission struct {
	APIID    string // the API's id
	Audience string // the API's identifier, filled in when read
	Value    string // the scope, e.g. "read:messages"
}

// String is the permission as the audit log and the command line show it:
// audience, a space, scope.
func (p Permission) String() string { return p.Audience + " " + p.Value }

// Settings are an API's RBAC settings (see the package documentation).
type Settings struct {
	APIID            string
	Enforce          bool
	TokenPermissions bool
}

// Store keeps roles, their permissions, users' roles and APIs' settings.
type Store interface {
	// CreateRole stores a role and returns it with its ID and timestamps;
	// ErrDuplicate when the name is taken.
	CreateRole(ctx context.Context, r Role) (Role, error)
	// RoleByID returns the role or ErrNotFound.
	RoleByID(ctx context.Context, id string) (Role, error)
	// RoleByName returns the role or ErrNotFound.
	RoleByName(ctx context.Context, name string) (Role, error)
	// ListRoles returns every role, ordered by name.
	ListRoles(ctx context.Context) ([]Role, error)
	// UpdateRole changes name and description; ErrNotFound, ErrDuplicate.
	UpdateRole(ctx context.Context, r Role) error
	// DeleteRole removes the role, and so takes it from every user;
	// ErrNotFound when there is none.
	DeleteRole(ctx context.Context, id string) error
	// RolePermissions lists a role's permissions, ordered by audience and
	// value.
	RolePermissions(ctx context.Context, roleID string) ([]Permission, error)
	// SetRolePermissions replaces a role's permissions; ErrNotFound when
	// the role, or one of the scopes, does not exist (any more).
	SetRolePermissions(ctx context.Context, roleID string, perms []Permission) error
	// UserRoles lists the roles a user holds, ordered by name.
	UserRoles(ctx context.Context, userID string) ([]Role, error)
	// AddUserRoles gives the user the roles (holding one already is no
	// error); ErrNotFound when the user or a role does not exist (any
	// more), and then nothing is given.
	AddUserRoles(ctx context.Context, userID string, roleIDs []string) error
	// RemoveUserRoles takes the roles from the user; roles not held are
	// ignored.
	RemoveUserRoles(ctx context.Context, userID string, roleIDs []string) error
	// UserPermissions lists, sorted and each once, the scopes of the API
	// apiID the user holds through roles.
	UserPermissions(ctx context.Context, userID, apiID string) ([]string, error)
	// APISettings returns an API's settings, both off when never set.
	APISettings(ctx context.Context, apiID string) (Settings, error)
	// SetAPISettings saves an API's settings; ErrNotFound when there is
	// no such API.
	SetAPISettings(ctx context.Context, st Settings) error
}

// ValidationError is a refused value, named by the field it came in.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }

// Validate checks a role's name and description. Names are what an admin
// and the import use to find a role, so they are printable, trimmed text.
func (r Role) Validate() error {
	switch {
	case r.Name == "":
		return &ValidationError{"name", "is required"}
	case utf8.RuneCountInString(r.Name) > 100 || !printable(r.Name) || strings.TrimSpace(r.Name) != r.Name:
		return &ValidationError{"name", "must be at most 100 printable characters, without spaces at either end"}
	case utf8.RuneCountInString(r.Description) > 200 || !printable(r.Description):
		return &ValidationError{"description", "must be at most 200 printable characters"}
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// Decision is what a user's access token for one API gets.
type Decision struct {
	// Scopes are the requested scopes the token is granted.
	Scopes []string
	// Permissions is the "permissions" claim; nil leaves it out.
	Permissions []string
}

// Decide applies an API's settings to a user's token request: requested
// are the scopes asked for that are not OpenID scopes, held the user's
// permissions on the API. Without Enforce the API's scopes are not granted
// to users at all, as before RBAC existed: Gatehouse never grants a user a
// scope nobody decided they should have.
func Decide(st Settings, requested, held []string) Decision {
	if !st.Enforce {
		return Decision{}
	}
	d := Decision{Scopes: []string{}}
	for _, s := range requested {
		if slices.Contains(held, s) && !slices.Contains(d.Scopes, s) {
			d.Scopes = append(d.Scopes, s)
		}
	}
	if st.TokenPermissions {
		d.Permissions = slices.Clone(held)
		if d.Permissions == nil {
			d.Permissions = []string{}
		}
	}
	return d
}

// ErrOneAPI refuses a token for several APIs when one of them uses RBAC:
// its permissions would be indistinguishable from the others'.
var ErrOneAPI = errors.New("ask for one API at a time: an API with RBAC settings issues tokens only for itself")

// CheckAudiences refuses a request for several APIs when any has a setting
// on.
func CheckAudiences(settings []Settings) error {
	if len(settings) < 2 {
		return nil
	}
	for _, st := range settings {
		if st.Enforce || st.TokenPermissions {
			return ErrOneAPI
		}
	}
	return nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
