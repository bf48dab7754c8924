package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/roles"
)

// The roles package's storage: roles, their permissions (scopes of APIs),
// users' roles and APIs' RBAC settings.

const roleColumns = `id::text, name, description, created_at, updated_at`

func scanRole(r pgx.Row) (roles.Role, error) {
	var x roles.Role
	err := r.Scan(&x.ID, &x.Name, &x.Description, &x.CreatedAt, &x.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return x, roles.ErrNotFound
	}
	return x, err
}

func (s *Store) CreateRole(ctx context.Context, r roles.Role) (roles.Role, error) {
	created, err := scanRole(s.db(ctx).QueryRow(ctx, `insert into roles (name, description) values ($1, $2) returning `+roleColumns,
		r.Name, r.Description))
	if isUniqueViolation(err) {
		return roles.Role{}, roles.ErrDuplicate
	}
	if err != nil {
		return roles.Role{}, fmt.Errorf("insert role: %w", err)
	}
	return created, nil
}

func (s *Store) RoleByID(ctx context.Context, id string) (roles.Role, error) {
	if !account.IsUUID(id) {
		return roles.Role{}, roles.ErrNotFound
	}
	r, err := scanRole(s.db(ctx).QueryRow(ctx, `select `+roleColumns+` from roles where id = $1`, id))
	if err != nil && !errors.Is(err, roles.ErrNotFound) {
		return r, fmt.Errorf("role by id: %w", err)
	}
	return r, err
}

func (s *Store) RoleByName(ctx context.Context, name string) (roles.Role, error) {
	if !storableText(name) {
		return roles.Role{}, roles.ErrNotFound
	}
	r, err := scanRole(s.db(ctx).QueryRow(ctx, `select `+roleColumns+` from roles where name = $1`, name))
	if err != nil && !errors.Is(err, roles.ErrNotFound) {
		return r, fmt.Errorf("role by name: %w", err)
	}
	return r, err
}

func (s *Store) ListRoles(ctx context.Context) ([]roles.Role, error) {
	return s.queryRoles(ctx, `select `+roleColumns+` from roles order by name`)
}

func (s *Store) queryRoles(ctx context.Context, sql string, args ...any) ([]roles.Role, error) {
	rows, err := s.db(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (roles.Role, error) { return scanRole(r) })
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return out, nil
}

func (s *Store) UpdateRole(ctx context.Context, r roles.Role) error {
	if !account.IsUUID(r.ID) {
		return roles.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `update roles set name = $2, description = $3, updated_at = now() where id = $1`,
		r.ID, r.Name, r.Description)
	if isUniqueViolation(err) {
		return roles.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("update role: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return roles.ErrNotFound
	}
	return nil
}

func (s *Store) DeleteRole(ctx context.Context, id string) error {
	if !account.IsUUID(id) {
		return roles.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from roles where id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return roles.ErrNotFound
	}
	return nil
}

func (s *Store) RolePermissions(ctx context.Context, roleID string) ([]roles.Permission, error) {
	if !account.IsUUID(roleID) {
		return nil, roles.ErrNotFound
	}
	rows, err := s.db(ctx).Query(ctx, `select p.api_id::text, a.identifier, p.value from role_permissions p
		join apis a on a.id = p.api_id where p.role_id = $1 order by a.identifier, p.value`, roleID)
	if err != nil {
		return nil, fmt.Errorf("role permissions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (roles.Permission, error) {
		var p roles.Permission
		err := r.Scan(&p.APIID, &p.Audience, &p.Value)
		return p, err
	})
}

// SetRolePermissions replaces a role's permissions in one transaction. The
// role row is locked first, so two admins saving at once apply one after
// the other rather than mixing their lists.
func (s *Store) SetRolePermissions(ctx context.Context, roleID string, perms []roles.Permission) error {
	if !account.IsUUID(roleID) {
		return roles.ErrNotFound
	}
	apiIDs := make([]string, len(perms))
	values := make([]string, len(perms))
	for i, p := range perms {
		if !account.IsUUID(p.APIID) {
			return roles.ErrNotFound
		}
		apiIDs[i], values[i] = p.APIID, p.Value
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		var exists bool
		if err := s.db(ctx).QueryRow(ctx, `select exists (select 1 from roles where id = $1 for update)`, roleID).Scan(&exists); err != nil {
			return fmt.Errorf("set role permissions: %w", err)
		}
		if !exists {
			return roles.ErrNotFound
		}
		_, err := s.db(ctx).Exec(ctx, `delete from role_permissions where role_id = $1`, roleID)
		if err == nil {
			_, err = s.db(ctx).Exec(ctx, `insert into role_permissions (role_id, api_id, value)
				select $1, a::uuid, v from unnest($2::text[], $3::text[]) as t(a, v) on conflict do nothing`, roleID, apiIDs, values)
		}
		if isForeignKeyViolation(err) {
			return roles.ErrNotFound
		}
		if err == nil {
			_, err = s.db(ctx).Exec(ctx, `update roles set updated_at = now() where id = $1`, roleID)
		}
		if err != nil {
			return fmt.Errorf("set role permissions: %w", err)
		}
		return nil
	})
}

func (s *Store) UserRoles(ctx context.Context, userID string) ([]roles.Role, error) {
	if !account.IsUUID(userID) {
		return nil, nil
	}
	return s.queryRoles(ctx, `select `+roleColumnsOf("r")+` from roles r join user_roles u on u.role_id = r.id
		where u.user_id = $1 order by r.name`, userID)
}

func roleColumnsOf(t string) string {
	return t + `.id::text, ` + t + `.name, ` + t + `.description, ` + t + `.created_at, ` + t + `.updated_at`
}

func (s *Store) AddUserRoles(ctx context.Context, userID string, roleIDs []string) error {
	if !account.IsUUID(userID) {
		return roles.ErrNotFound
	}
	for _, id := range roleIDs {
		if !account.IsUUID(id) {
			return roles.ErrNotFound
		}
	}
	_, err := s.db(ctx).Exec(ctx, `insert into user_roles (user_id, role_id)
		select $1, r::uuid from unnest($2::text[]) as t(r) on conflict do nothing`, userID, roleIDs)
	if isForeignKeyViolation(err) {
		return roles.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("add user roles: %w", err)
	}
	return nil
}

func (s *Store) RemoveUserRoles(ctx context.Context, userID string, roleIDs []string) error {
	if !account.IsUUID(userID) {
		return nil
	}
	var ids []string
	for _, id := range roleIDs {
		if account.IsUUID(id) {
			ids = append(ids, id)
		}
	}
	_, err := s.db(ctx).Exec(ctx, `delete from user_roles where user_id = $1 and role_id::text = any($2::text[])`, userID, textArray(ids))
	if err != nil {
		return fmt.Errorf("remove user roles: %w", err)
	}
	return nil
}

func (s *Store) UserPermissions(ctx context.Context, userID, apiID string) ([]string, error) {
	if !account.IsUUID(userID) || !account.IsUUID(apiID) {
		return []string{}, nil
	}
	var out []string
	err := s.db(ctx).QueryRow(ctx, `select coalesce(array_agg(distinct p.value order by p.value), '{}')
		from user_roles u join role_permissions p on p.role_id = u.role_id
		where u.user_id = $1 and p.api_id = $2`, userID, apiID).Scan(&out)
	if err != nil {
		return nil, fmt.Errorf("user permissions: %w", err)
	}
	return out, nil
}

func (s *Store) APISettings(ctx context.Context, apiID string) (roles.Settings, error) {
	st := roles.Settings{APIID: apiID}
	if !account.IsUUID(apiID) {
		return st, nil
	}
	err := s.db(ctx).QueryRow(ctx, `select enforce, token_permissions from api_rbac where api_id = $1`, apiID).
		Scan(&st.Enforce, &st.TokenPermissions)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("api rbac: %w", err)
	}
	return st, nil
}

func (s *Store) SetAPISettings(ctx context.Context, st roles.Settings) error {
	if !account.IsUUID(st.APIID) {
		return roles.ErrNotFound
	}
	_, err := s.db(ctx).Exec(ctx, `insert into api_rbac (api_id, enforce, token_permissions) values ($1, $2, $3)
		on conflict (api_id) do update set enforce = excluded.enforce, token_permissions = excluded.token_permissions, updated_at = now()`,
		st.APIID, st.Enforce, st.TokenPermissions)
	if isForeignKeyViolation(err) {
		return roles.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set api rbac: %w", err)
	}
	return nil
}

// AllAPIScopeValues lists every scope any API defines, each once: what a
// user-facing application may ask for.
func (s *Store) AllAPIScopeValues(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db(ctx).QueryRow(ctx, `select coalesce(array_agg(distinct value), '{}') from api_scopes`).Scan(&out); err != nil {
		return nil, fmt.Errorf("all api scopes: %w", err)
	}
	return out, nil
}
