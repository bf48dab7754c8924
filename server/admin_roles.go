package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
)

// The roles pages: the list with its create form; one role's name,
// permissions (every API's scopes as checkboxes) and deletion; a user's
// roles; and an API's RBAC settings, posted from the API's page. Each calls
// the roles package's Service, as the admin API and the command line do.
//
// A user's roles are changed one at a time, add or remove, never by
// replacing the whole list: a form left open while another admin removed a
// role cannot give it back unasked, and a role deleted since the form was
// shown is refused by name.

type adminRolesData struct {
	Roles             []roles.Role
	Name, Description string // the create form as submitted, when refused
}

type adminRoleData struct {
	Role              roles.Role
	Name, Description string
	APIs              []adminRoleAPI
}

// adminRoleAPI is one API's scopes with those the role holds.
type adminRoleAPI struct {
	API    clients.API
	Scopes []clients.Scope
	Held   []string
}

type adminUserRolesData struct {
	User      account.User
	Held      []roles.Role
	Available []roles.Role
}

func (s *Server) handleAdminRoles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderAdminRoles(w, r, http.StatusOK, adminRolesData{}, nil)
	})
}

func (s *Server) renderAdminRoles(w http.ResponseWriter, r *http.Request, status int, d adminRolesData, fields map[string]string) {
	list, err := s.roles.Roles(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Roles = list
	v := s.newAdminView(r, "roles", "Roles")
	v.Data = &d
	if len(fields) > 0 {
		v.Fields, v.Error = fields, "The role was not created: correct the fields marked below."
	}
	s.renderAdmin(w, r, status, "admin-roles", v)
}

// roleConsoleFields turns the roles service's refusals into form fields.
func roleConsoleFields(err error) (map[string]string, bool) {
	var ve *roles.ValidationError
	switch {
	case errors.As(err, &ve):
		return map[string]string{ve.Field: ve.Problem}, true
	case errors.Is(err, roles.ErrDuplicate):
		return map[string]string{"name": "A role with this name already exists."}, true
	}
	return nil, false
}

func (s *Server) handleAdminRoleCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := adminRolesData{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
		created, err := s.roles.CreateRole(r.Context(), roles.Role{Name: d.Name, Description: d.Description}, adminActor(r), meta(r))
		if fields, bad := roleConsoleFields(err); bad {
			s.renderAdminRoles(w, r, http.StatusBadRequest, d, fields)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/roles/"+created.ID, "Role created. Choose its permissions below.")
	})
}

// adminRole loads the role the path names, or answers 404.
func (s *Server) adminRole(w http.ResponseWriter, r *http.Request) (roles.Role, bool) {
	role, err := s.roles.Role(r.Context(), r.PathValue("id"))
	if errors.Is(err, roles.ErrNotFound) {
		s.renderMessage(w, r, http.StatusNotFound, "No such role", "This role does not exist, or was deleted.")
		return role, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return role, false
	}
	return role, true
}

func (s *Server) handleAdminRole() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if role, ok := s.adminRole(w, r); ok {
			s.renderAdminRole(w, r, http.StatusOK, role, nil)
		}
	})
}

func (s *Server) renderAdminRole(w http.ResponseWriter, r *http.Request, status int, role roles.Role, edit func(*adminRoleData, *adminView)) {
	ctx := r.Context()
	held, err := s.roles.Permissions(ctx, role.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	apis, err := s.clients.ListAPIs(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := adminRoleData{Role: role, Name: role.Name, Description: role.Description}
	for _, a := range apis {
		if s.builtInAPI(a.Identifier) {
			continue // machine-to-machine only: roles never reach it
		}
		scopes, err := s.store.APIScopes(ctx, a.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		row := adminRoleAPI{API: a, Scopes: scopes}
		for _, p := range held {
			if p.APIID == a.ID {
				row.Held = append(row.Held, p.Value)
			}
		}
		d.APIs = append(d.APIs, row)
	}
	v := s.newAdminView(r, "roles", role.Name)
	if edit != nil {
		edit(&d, &v)
	}
	v.Data = &d
	s.renderAdmin(w, r, status, "admin-role", v)
}

func (s *Server) handleAdminRoleSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role, ok := s.adminRole(w, r)
		if !ok {
			return
		}
		changed := role
		changed.Name, changed.Description = r.PostForm.Get("name"), r.PostForm.Get("description")
		_, err := s.roles.UpdateRole(r.Context(), changed, adminActor(r), meta(r))
		if fields, bad := roleConsoleFields(err); bad {
			s.renderAdminRole(w, r, http.StatusBadRequest, role, func(d *adminRoleData, v *adminView) {
				d.Name, d.Description = changed.Name, changed.Description
				v.Fields, v.Error = fields, "Nothing was saved: correct the fields marked below."
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/roles/"+role.ID, "Saved.")
	})
}

// handleAdminRolePermissions replaces the role's permissions with the
// checked boxes, each "audience scope".
func (s *Server) handleAdminRolePermissions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role, ok := s.adminRole(w, r)
		if !ok {
			return
		}
		var perms []roles.Permission
		for _, v := range r.PostForm["permission"] {
			aud, scope, found := strings.Cut(v, " ")
			if !found {
				s.renderAdminRole(w, r, http.StatusBadRequest, role, func(_ *adminRoleData, v *adminView) {
					v.Fields, v.Error = map[string]string{"permissions": "A permission was not understood."}, "Nothing was saved."
				})
				return
			}
			perms = append(perms, roles.Permission{Audience: aud, Value: scope})
		}
		_, err := s.roles.SetPermissions(r.Context(), role.ID, perms, adminActor(r), meta(r))
		if fields, bad := roleConsoleFields(err); bad {
			s.renderAdminRole(w, r, http.StatusBadRequest, role, func(_ *adminRoleData, v *adminView) {
				v.Fields, v.Error = fields, "The permissions were not saved: "+fields["permissions"]
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/roles/"+role.ID, "Permissions saved. Tokens issued from now on carry them.")
	})
}

func (s *Server) handleAdminRoleDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role, ok := s.adminRole(w, r)
		if !ok {
			return
		}
		if r.PostForm.Get("confirm") != role.Name {
			s.renderAdminRole(w, r, http.StatusBadRequest, role, func(_ *adminRoleData, v *adminView) {
				v.Fields, v.Error = map[string]string{"confirm": "Type the role's name exactly to delete it."}, "The role was not deleted."
			})
			return
		}
		if err := s.roles.DeleteRole(r.Context(), role.ID, adminActor(r), meta(r)); err != nil && !errors.Is(err, roles.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/roles", "Role deleted; its holders lost it.")
	})
}

// adminRolesUser loads the user the path names, or answers 404.
func (s *Server) adminRolesUser(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	u, err := s.accounts.User(r.Context(), r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) || (err == nil && u.ID == "") {
		s.renderMessage(w, r, http.StatusNotFound, "No such user", "This user does not exist, or was deleted.")
		return u, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return u, false
	}
	return u, true
}

func (s *Server) handleAdminUserRoles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := s.adminRolesUser(w, r); ok {
			s.renderAdminUserRoles(w, r, http.StatusOK, u, "")
		}
	})
}

func (s *Server) renderAdminUserRoles(w http.ResponseWriter, r *http.Request, status int, u account.User, problem string) {
	held, err := s.roles.UserRoles(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	all, err := s.roles.Roles(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := adminUserRolesData{User: u, Held: held}
	for _, role := range all {
		if !containsRole(held, role.ID) {
			d.Available = append(d.Available, role)
		}
	}
	v := s.newAdminView(r, "users", "Roles of "+u.Email)
	v.Data = &d
	if problem != "" {
		v.Error = problem
	}
	s.renderAdmin(w, r, status, "admin-user-roles", v)
}

func containsRole(list []roles.Role, id string) bool {
	for _, r := range list {
		if r.ID == id {
			return true
		}
	}
	return false
}

// handleAdminUserRolesChange adds or removes one role (action, role_id).
func (s *Server) handleAdminUserRolesChange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.adminRolesUser(w, r)
		if !ok {
			return
		}
		ids := []string{r.PostForm.Get("role_id")}
		var err error
		notice := "Role given. Tokens issued from now on carry its permissions."
		switch r.PostForm.Get("action") {
		case "add":
			err = s.roles.AddUserRoles(r.Context(), u.ID, ids, adminActor(r), meta(r))
		case "remove":
			err = s.roles.RemoveUserRoles(r.Context(), u.ID, ids, adminActor(r), meta(r))
			notice = "Role removed. Tokens issued or refreshed from now on lose its permissions."
		default:
			s.renderAdminUserRoles(w, r, http.StatusBadRequest, u, "Nothing was changed: the form did not say whether to add or remove.")
			return
		}
		var ve *roles.ValidationError
		if errors.As(err, &ve) {
			s.renderAdminUserRoles(w, r, http.StatusBadRequest, u, "Nothing was changed: "+ve.Problem+".")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/users/"+u.ID+"/roles", notice)
	})
}

// handleAdminAPIRBAC saves an API's RBAC settings from its page.
func (s *Server) handleAdminAPIRBAC() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.adminAPI(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			s.renderMessage(w, r, http.StatusBadRequest, "Gatehouse's own API",
				"Gatehouse's own APIs (the admin API and the Management API) take machine-to-machine tokens only; roles do not apply to them.")
			return
		}
		st := roles.Settings{APIID: a.ID, Enforce: r.PostForm.Get("enforce") == "1", TokenPermissions: r.PostForm.Get("token_permissions") == "1"}
		err := s.roles.SetAPISettings(r.Context(), st, adminActor(r), meta(r))
		var ve *roles.ValidationError
		if errors.As(err, &ve) {
			s.renderAdminAPI(w, r, http.StatusBadRequest, a, func(_ *adminAPIData, v *adminView) {
				v.Fields, v.Error = map[string]string{"rbac": "Add permissions in the access token needs RBAC on."}, "The RBAC settings were not saved."
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis/"+a.ID, "RBAC settings saved. New tokens for this API follow them.")
	})
}
