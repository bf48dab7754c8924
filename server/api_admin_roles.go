package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/roles"
)

// The admin API's roles: the same package roles Service the console and the
// command line use. Permissions and role lists take Auth0's Management API
// field names (resource_server_identifier, permission_name; roles as ids),
// so scripts written for Auth0 need few changes.

type roleJSON struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Permissions []permissionJSON `json:"permissions,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

type permissionJSON struct {
	Audience string `json:"resource_server_identifier"`
	Value    string `json:"permission_name"`
}

func toRoleJSON(r roles.Role) roleJSON {
	return roleJSON{ID: r.ID, Name: r.Name, Description: r.Description, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toPermissionsJSON(ps []roles.Permission) []permissionJSON {
	out := make([]permissionJSON, len(ps))
	for i, p := range ps {
		out[i] = permissionJSON{Audience: p.Audience, Value: p.Value}
	}
	return out
}

// roleFields turns a roles.ValidationError into the API's field errors.
func roleFields(err error) (map[string]string, bool) {
	var v *roles.ValidationError
	if !errors.As(err, &v) {
		return nil, false
	}
	return map[string]string{v.Field: v.Problem}, true
}

// apiRole loads the role the path's {id} names.
func (s *Server) apiRole(w http.ResponseWriter, r *http.Request) (roles.Role, bool) {
	role, err := s.roles.Role(r.Context(), r.PathValue("id"))
	if errors.Is(err, roles.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "No role has this id.", nil)
		return role, false
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return role, false
	}
	return role, true
}

func (s *Server) writeRole(w http.ResponseWriter, r *http.Request, status int, role roles.Role) {
	perms, err := s.roles.Permissions(r.Context(), role.ID)
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	out := toRoleJSON(role)
	out.Permissions = toPermissionsJSON(perms)
	if out.Permissions == nil {
		out.Permissions = []permissionJSON{}
	}
	writeJSON(w, status, out)
}

func (s *Server) handleAPIListRoles() http.Handler {
	return s.requireAdminScope("read:roles", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		list, err := s.roles.Roles(r.Context())
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]roleJSON, len(list))
		for i, role := range list {
			out[i] = toRoleJSON(role)
		}
		writeJSON(w, http.StatusOK, map[string]any{"roles": out})
	})
}

func (s *Server) handleAPIGetRole() http.Handler {
	return s.requireAdminScope("read:roles", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		if role, ok := s.apiRole(w, r); ok {
			s.writeRole(w, r, http.StatusOK, role)
		}
	})
}

// handleAPICreateRole: POST api/admin/roles with name and description.
func (s *Server) handleAPICreateRole() http.Handler {
	return s.requireAdminScope("create:roles", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		var body struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		role, err := s.roles.CreateRole(r.Context(), roles.Role{Name: body.Name, Description: body.Description}, apiActor(caller), meta(r))
		if !s.roleRefusal(w, r, err, "The role was not created.") {
			s.writeRole(w, r, http.StatusCreated, role)
		}
	})
}

// handleAPIUpdateRole: PATCH api/admin/roles/{id} with name and/or
// description.
func (s *Server) handleAPIUpdateRole() http.Handler {
	return s.requireAdminScope("update:roles", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		role, ok := s.apiRole(w, r)
		if !ok {
			return
		}
		var body struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if body.Name != nil {
			role.Name = *body.Name
		}
		if body.Description != nil {
			role.Description = *body.Description
		}
		role, err := s.roles.UpdateRole(r.Context(), role, apiActor(caller), meta(r))
		if !s.roleRefusal(w, r, err, "The role was not changed.") {
			s.writeRole(w, r, http.StatusOK, role)
		}
	})
}

func (s *Server) handleAPIDeleteRole() http.Handler {
	return s.requireAdminScope("delete:roles", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		role, ok := s.apiRole(w, r)
		if !ok {
			return
		}
		err := s.roles.DeleteRole(r.Context(), role.ID, apiActor(caller), meta(r))
		if err != nil && !errors.Is(err, roles.ErrNotFound) {
			s.apiServerError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAPISetRolePermissions: PUT api/admin/roles/{id}/permissions with
// {"permissions": [{"resource_server_identifier", "permission_name"}]}
// replaces the role's permissions.
func (s *Server) handleAPISetRolePermissions() http.Handler {
	return s.requireAdminScope("update:roles", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		role, ok := s.apiRole(w, r)
		if !ok {
			return
		}
		var body struct {
			Permissions []permissionJSON `json:"permissions"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		perms := make([]roles.Permission, len(body.Permissions))
		for i, p := range body.Permissions {
			perms[i] = roles.Permission{Audience: p.Audience, Value: p.Value}
		}
		_, err := s.roles.SetPermissions(r.Context(), role.ID, perms, apiActor(caller), meta(r))
		if !s.roleRefusal(w, r, err, "The permissions were not changed.") {
			s.writeRole(w, r, http.StatusOK, role)
		}
	})
}

// roleRefusal answers err when it is one; false means there was none.
func (s *Server) roleRefusal(w http.ResponseWriter, r *http.Request, err error, what string) bool {
	if err == nil {
		return false
	}
	if fields, ok := roleFields(err); ok {
		apiError(w, http.StatusBadRequest, "invalid_role", what, fields)
	} else if errors.Is(err, roles.ErrDuplicate) {
		apiError(w, http.StatusConflict, "duplicate", "A role with this name exists.", map[string]string{"name": "is taken"})
	} else if errors.Is(err, roles.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "No role has this id.", nil)
	} else {
		s.apiServerError(w, r, err)
	}
	return true
}

func (s *Server) handleAPIUserRoles() http.Handler {
	return s.requireAdminScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		list, err := s.roles.UserRoles(r.Context(), u.ID)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]roleJSON, len(list))
		for i, role := range list {
			out[i] = toRoleJSON(role)
		}
		writeJSON(w, http.StatusOK, map[string]any{"roles": out})
	})
}

// handleAPIChangeUserRoles: POST (add) or DELETE (remove)
// api/admin/users/{id}/roles with {"roles": [role ids]}, as Auth0's
// Management API takes them. Adding a role that does not exist refuses the
// whole request.
func (s *Server) handleAPIChangeUserRoles(add bool) http.Handler {
	return s.requireAdminScope("update:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		var body struct {
			Roles []string `json:"roles"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		var err error
		if add {
			err = s.roles.AddUserRoles(r.Context(), u.ID, body.Roles, apiActor(caller), meta(r))
		} else {
			err = s.roles.RemoveUserRoles(r.Context(), u.ID, body.Roles, apiActor(caller), meta(r))
		}
		if !s.roleRefusal(w, r, err, "The user's roles were not changed.") {
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

type rbacJSON struct {
	Enforce          bool `json:"enforce"`
	TokenPermissions bool `json:"token_permissions"`
}

func (s *Server) handleAPIGetRBAC() http.Handler {
	return s.requireAdminScope("read:apis", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		st, err := s.roles.APISettings(r.Context(), a.ID)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rbacJSON{Enforce: st.Enforce, TokenPermissions: st.TokenPermissions})
	})
}

// handleAPISetRBAC: PUT api/admin/apis/{id}/rbac with enforce and
// token_permissions (Auth0's "Enable RBAC" and "Add Permissions in the
// Access Token"). The admin API's own tokens are decided by grants only.
func (s *Server) handleAPISetRBAC() http.Handler {
	return s.requireAdminScope("update:apis", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			apiError(w, http.StatusConflict, "built_in", "Gatehouse's own APIs (the admin API and the Management API) take machine-to-machine tokens only; roles do not apply to them.", nil)
			return
		}
		var body rbacJSON
		if !decodeBody(w, r, &body) {
			return
		}
		err := s.roles.SetAPISettings(r.Context(), roles.Settings{APIID: a.ID, Enforce: body.Enforce, TokenPermissions: body.TokenPermissions}, apiActor(caller), meta(r))
		if !s.roleRefusal(w, r, err, "The RBAC settings were not changed.") {
			writeJSON(w, http.StatusOK, body)
		}
	})
}
