package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// Audit event types of administrators' changes to roles. Every front end
// records the same shape: Subject is the role's id (the user's id for
// assignments, the API's identifier for its settings), and details carry by
// (who acted) and what changed, roles named by id and name.
const (
	EventRoleCreated            = "admin.role_created"
	EventRoleUpdated            = "admin.role_updated"
	EventRoleDeleted            = "admin.role_deleted"
	EventRolePermissionsUpdated = "admin.role_permissions_updated"
	EventUserRolesAdded         = "admin.user_roles_added"
	EventUserRolesRemoved       = "admin.user_roles_removed"
	EventAPIRBACUpdated         = "admin.api_rbac_updated"
)

// APIs finds the APIs whose scopes are permissions; package store
// implements it.
type APIs interface {
	APIByIdentifier(ctx context.Context, identifier string) (clients.API, error)
	APIByID(ctx context.Context, id string) (clients.API, error)
	APIScopes(ctx context.Context, apiID string) ([]clients.Scope, error)
}

// AuditLog stores the Service's events.
type AuditLog interface {
	Record(ctx context.Context, e account.Event) error
}

// Service carries out administrators' changes to roles and answers what a
// user's token gets. It reads nothing from a form, a JSON body or a flag.
type Service struct {
	store       Store
	apis        APIs
	audit       AuditLog
	now         func() time.Time
	log         *slog.Logger
	machineOnly func(identifier string) bool
}

// Deps are the Service's collaborators. Now defaults to time.Now and Log to
// a logger that discards.
type Deps struct {
	Store Store
	APIs  APIs
	Audit AuditLog
	Now   func() time.Time
	Log   *slog.Logger
	// MachineOnly tells the APIs that take machine-to-machine tokens only
	// (Gatehouse's own admin and Management APIs): no role holds their
	// scopes and RBAC cannot be turned on for them, so no person's token
	// ever carries one. Nil: none.
	MachineOnly func(identifier string) bool
}

func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.MachineOnly == nil {
		d.MachineOnly = func(string) bool { return false }
	}
	return &Service{store: d.Store, apis: d.APIs, audit: d.Audit, now: d.Now, log: d.Log, machineOnly: d.MachineOnly}
}

// Roles lists every role, ordered by name.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	return s.store.ListRoles(ctx)
}

// Role finds a role by its id or, failing that, its name; ErrNotFound.
func (s *Service) Role(ctx context.Context, idOrName string) (Role, error) {
	r, err := s.store.RoleByID(ctx, idOrName)
	if errors.Is(err, ErrNotFound) {
		r, err = s.store.RoleByName(ctx, idOrName)
	}
	return r, err
}

// Permissions lists a role's permissions.
func (s *Service) Permissions(ctx context.Context, roleID string) ([]Permission, error) {
	return s.store.RolePermissions(ctx, roleID)
}

// UserRoles lists the roles a user holds.
func (s *Service) UserRoles(ctx context.Context, userID string) ([]Role, error) {
	return s.store.UserRoles(ctx, userID)
}

// CreateRole creates a role with no permissions; a *ValidationError or
// ErrDuplicate when the name is taken.
func (s *Service) CreateRole(ctx context.Context, r Role, by account.Actor, m account.Meta) (Role, error) {
	r.Name, r.Description = strings.TrimSpace(r.Name), strings.TrimSpace(r.Description)
	if err := r.Validate(); err != nil {
		return Role{}, err
	}
	created, err := s.store.CreateRole(ctx, r)
	if err != nil {
		return Role{}, wrap("create role "+r.Name, err)
	}
	s.record(ctx, account.Event{Type: EventRoleCreated, Subject: created.ID, Details: map[string]any{
		"by": by.Name, "role_id": created.ID, "name": created.Name}}, m)
	return created, nil
}

// UpdateRole changes the name and description of the role r.ID.
func (s *Service) UpdateRole(ctx context.Context, r Role, by account.Actor, m account.Meta) (Role, error) {
	before, err := s.store.RoleByID(ctx, r.ID)
	if err != nil {
		return Role{}, wrap("load role", err)
	}
	r.Name, r.Description, r.CreatedAt = strings.TrimSpace(r.Name), strings.TrimSpace(r.Description), before.CreatedAt
	if err := r.Validate(); err != nil {
		return Role{}, err
	}
	if err := s.store.UpdateRole(ctx, r); err != nil {
		return Role{}, wrap("update role "+r.ID, err)
	}
	s.record(ctx, account.Event{Type: EventRoleUpdated, Subject: r.ID, Details: map[string]any{
		"by": by.Name, "role_id": r.ID, "name": r.Name, "was": before.Name}}, m)
	return s.store.RoleByID(ctx, r.ID)
}

// DeleteRole deletes a role; every user holding it loses it at once, and
// tokens issued afterwards (refreshes included) lose its permissions.
func (s *Service) DeleteRole(ctx context.Context, id string, by account.Actor, m account.Meta) error {
	r, err := s.store.RoleByID(ctx, id)
	if err != nil {
		return wrap("load role", err)
	}
	if err := s.store.DeleteRole(ctx, r.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return wrap("delete role "+r.ID, err)
	}
	s.record(ctx, account.Event{Type: EventRoleDeleted, Subject: r.ID, Details: map[string]any{
		"by": by.Name, "role_id": r.ID, "name": r.Name}}, m)
	return nil
}

// SetPermissions replaces a role's permissions. Each names an API by its
// identifier (Audience) and one of its scopes (Value); an unknown API or
// scope is a *ValidationError naming it, and nothing changes.
func (s *Service) SetPermissions(ctx context.Context, roleID string, perms []Permission, by account.Actor, m account.Meta) ([]Permission, error) {
	r, err := s.store.RoleByID(ctx, roleID)
	if err != nil {
		return nil, wrap("load role", err)
	}
	resolved, err := s.resolve(ctx, perms)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetRolePermissions(ctx, r.ID, resolved); err != nil {
		if errors.Is(err, ErrNotFound) { // a scope went away meanwhile
			return nil, &ValidationError{"permissions", "a scope was removed from its API meanwhile; reload and try again"}
		}
		return nil, wrap("set permissions of role "+r.ID, err)
	}
	stored, err := s.store.RolePermissions(ctx, r.ID)
	if err != nil {
		return nil, wrap("read permissions of role "+r.ID, err)
	}
	s.record(ctx, account.Event{Type: EventRolePermissionsUpdated, Subject: r.ID, Details: map[string]any{
		"by": by.Name, "role_id": r.ID, "name": r.Name, "permissions": permissionStrings(stored)}}, m)
	return stored, nil
}

// resolve finds each permission's API and checks the scope is the API's,
// returning them sorted and each once.
func (s *Service) resolve(ctx context.Context, perms []Permission) ([]Permission, error) {
	if len(perms) > MaxPermissionsPerRole {
		return nil, &ValidationError{"permissions", fmt.Sprintf("a role holds at most %d permissions", MaxPermissionsPerRole)}
	}
	var out []Permission
	scopes := map[string][]clients.Scope{}
	for _, p := range perms {
		a, err := s.apis.APIByIdentifier(ctx, p.Audience)
		if errors.Is(err, clients.ErrNotFound) {
			return nil, &ValidationError{"permissions", fmt.Sprintf("no API has the identifier %q", p.Audience)}
		}
		if err != nil {
			return nil, wrap("load api", err)
		}
		if s.machineOnly(a.Identifier) {
			return nil, &ValidationError{"permissions", fmt.Sprintf("%s takes machine-to-machine tokens only; no role can hold its scopes", a.Identifier)}
		}
		defined, ok := scopes[a.ID]
		if !ok {
			if defined, err = s.apis.APIScopes(ctx, a.ID); err != nil {
				return nil, wrap("scopes of api "+a.Identifier, err)
			}
			scopes[a.ID] = defined
		}
		if !slices.ContainsFunc(defined, func(d clients.Scope) bool { return d.Value == p.Value }) {
			return nil, &ValidationError{"permissions", fmt.Sprintf("%q is not a scope of %s", p.Value, a.Identifier)}
		}
		p.APIID, p.Audience = a.ID, a.Identifier
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// MaxPermissionsPerRole bounds a role, and so what one assignment can add
// to a token.
const MaxPermissionsPerRole = 200

// AddUserRoles gives a user roles. A role that does not exist (deleted
// since the form was shown, say) is a *ValidationError and nothing is
// given; an unknown user is ErrNotFound.
func (s *Service) AddUserRoles(ctx context.Context, userID string, roleIDs []string, by account.Actor, m account.Meta) error {
	rs, err := s.rolesByID(ctx, roleIDs)
	if err != nil {
		return err
	}
	if err := s.store.AddUserRoles(ctx, userID, roleIDs); err != nil {
		if errors.Is(err, ErrNotFound) {
			// The user is gone, or a role was deleted between the check
			// and the insert: say which.
			if _, rerr := s.rolesByID(ctx, roleIDs); rerr != nil {
				return rerr
			}
		}
		return wrap("add roles to user "+userID, err)
	}
	s.record(ctx, account.Event{Type: EventUserRolesAdded, UserID: userID, Subject: userID, Details: map[string]any{
		"by": by.Name, "user_id": userID, "role_ids": roleIDs, "roles": roleNames(rs)}}, m)
	return nil
}

// RemoveUserRoles takes roles from a user; a role the user does not hold,
// or that no longer exists, is no error: it is not held either way.
func (s *Service) RemoveUserRoles(ctx context.Context, userID string, roleIDs []string, by account.Actor, m account.Meta) error {
	if len(roleIDs) == 0 {
		return &ValidationError{"roles", "name at least one role"}
	}
	var names []string
	for _, id := range roleIDs {
		if r, err := s.store.RoleByID(ctx, id); err == nil {
			names = append(names, r.Name)
		}
	}
	if err := s.store.RemoveUserRoles(ctx, userID, roleIDs); err != nil {
		return wrap("remove roles from user "+userID, err)
	}
	s.record(ctx, account.Event{Type: EventUserRolesRemoved, UserID: userID, Subject: userID, Details: map[string]any{
		"by": by.Name, "user_id": userID, "role_ids": roleIDs, "roles": names}}, m)
	return nil
}

func (s *Service) rolesByID(ctx context.Context, ids []string) ([]Role, error) {
	if len(ids) == 0 {
		return nil, &ValidationError{"roles", "name at least one role"}
	}
	out := make([]Role, 0, len(ids))
	for _, id := range ids {
		r, err := s.store.RoleByID(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, &ValidationError{"roles", fmt.Sprintf("no role has the id %q (was it deleted?)", id)}
		}
		if err != nil {
			return nil, wrap("load role", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// APISettings returns the RBAC settings of the API with this id.
func (s *Service) APISettings(ctx context.Context, apiID string) (Settings, error) {
	return s.store.APISettings(ctx, apiID)
}

// SetAPISettings saves an API's RBAC settings. Permissions in the token
// without enforcement is refused, as Auth0's dashboard greys it out: the
// token would claim permissions its scopes do not reflect.
func (s *Service) SetAPISettings(ctx context.Context, st Settings, by account.Actor, m account.Meta) error {
	a, err := s.apis.APIByID(ctx, st.APIID)
	if err != nil {
		return wrap("load api", err)
	}
	if st.TokenPermissions && !st.Enforce {
		return &ValidationError{"token_permissions", "needs RBAC on (enforce) first"}
	}
	if s.machineOnly(a.Identifier) && st.Enforce {
		return &ValidationError{"enforce", a.Identifier + " takes machine-to-machine tokens only; roles do not apply to it"}
	}
	if err := s.store.SetAPISettings(ctx, st); err != nil {
		return wrap("set rbac of api "+a.Identifier, err)
	}
	s.record(ctx, account.Event{Type: EventAPIRBACUpdated, Subject: a.Identifier, Details: map[string]any{
		"by": by.Name, "identifier": a.Identifier, "enforce": st.Enforce, "token_permissions": st.TokenPermissions}}, m)
	return nil
}

// ForUserToken is what a user's access token for the given audiences gets:
// requested are the scopes asked for beyond OpenID's. With no API using
// RBAC among them, applies is false and the token is as before.
func (s *Service) ForUserToken(ctx context.Context, userID string, audiences, requested []string) (d Decision, applies bool, err error) {
	// A person's token for an API that takes machines' tokens only carries
	// none of its scopes, whatever roles or settings were stored.
	if slices.ContainsFunc(audiences, s.machineOnly) {
		return Decision{}, true, nil
	}
	settings, apiIDs, err := s.settingsOf(ctx, audiences)
	if err != nil || len(settings) != 1 || !settings[0].Enforce {
		return Decision{}, false, err
	}
	held, err := s.store.UserPermissions(ctx, userID, apiIDs[0])
	if err != nil {
		return Decision{}, false, wrap("permissions of user", err)
	}
	return Decide(settings[0], requested, held), true, nil
}

// ForClientToken is the permissions claim of a machine-to-machine token for
// the given audiences with its granted scopes: nil unless the one API asks
// for permissions in its tokens.
func (s *Service) ForClientToken(ctx context.Context, audiences, granted []string) ([]string, error) {
	settings, _, err := s.settingsOf(ctx, audiences)
	if err != nil || len(settings) != 1 || !settings[0].TokenPermissions {
		return nil, err
	}
	return append([]string{}, granted...), nil
}

// settingsOf reads the settings of the APIs named as audiences, refusing
// several when one uses RBAC (ErrOneAPI).
func (s *Service) settingsOf(ctx context.Context, audiences []string) ([]Settings, []string, error) {
	var out []Settings
	var ids []string
	for _, aud := range audiences {
		a, err := s.apis.APIByIdentifier(ctx, aud)
		if errors.Is(err, clients.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, wrap("load api", err)
		}
		st, err := s.store.APISettings(ctx, a.ID)
		if err != nil {
			return nil, nil, wrap("rbac of api "+a.Identifier, err)
		}
		out, ids = append(out, st), append(ids, a.ID)
	}
	if err := CheckAudiences(out); err != nil {
		return nil, nil, err
	}
	return out, ids, nil
}

func permissionStrings(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func roleNames(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// record writes e to the audit log. The change has happened by now, so a
// failed write is logged, not returned.
func (s *Service) record(ctx context.Context, e account.Event, m account.Meta) {
	e.At = s.now()
	e.IP, e.UserAgent, e.RequestID = m.IP, m.UserAgent, m.RequestID
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
}

// HeldOn lists the permissions the user holds on the API named by the one
// audience; nil when there is not exactly one, or it is no API.
func (s *Service) HeldOn(ctx context.Context, userID string, audiences []string) ([]string, error) {
	if len(audiences) != 1 {
		return nil, nil
	}
	a, err := s.apis.APIByIdentifier(ctx, audiences[0])
	if errors.Is(err, clients.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("load api", err)
	}
	return s.store.UserPermissions(ctx, userID, a.ID)
}
