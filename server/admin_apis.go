package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
)

// The APIs pages: the list with its create form, and one API's settings,
// scopes and machine-to-machine grants. The admin API that Gatehouse
// registers for itself is shown like any other, but its scopes are
// Gatehouse's and it cannot be deleted.

type adminAPIsData struct {
	APIs []clients.API
	// The create form as submitted, when it was refused.
	Name, Identifier, Lifetime string
}

type adminAPIData struct {
	API      clients.API
	System   bool // the admin API: scopes fixed, not deletable
	Name     string
	Lifetime string
	Scopes   []clients.Scope
	// ScopeText is the scopes textarea, what the admin typed when refused.
	ScopeText string
	Grants    []adminGrantRow
	RBAC      roles.Settings
}

// adminGrantRow is one machine-to-machine application and what it may ask
// of the API.
type adminGrantRow struct {
	App     clients.Client
	Granted bool
	Scopes  []string
}

func (s *Server) handleAdminAPIs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderAdminAPIs(w, r, http.StatusOK, adminAPIsData{Lifetime: "24h"}, nil)
	})
}

func (s *Server) renderAdminAPIs(w http.ResponseWriter, r *http.Request, status int, d adminAPIsData, fields map[string]string) {
	list, err := s.clients.ListAPIs(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.APIs = list
	v := s.newAdminView(r, "apis", "APIs")
	v.Data = &d
	if len(fields) > 0 {
		v.Fields = fields
		v.Error = "The API was not created: correct the fields marked below."
	}
	s.renderAdmin(w, r, status, "admin-apis", v)
}

func (s *Server) handleAdminAPICreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.PostForm
		d := adminAPIsData{Name: f.Get("name"), Identifier: strings.TrimSpace(f.Get("identifier")), Lifetime: f.Get("token_lifetime")}
		fields := map[string]string{}
		lifetime, err := clients.ParseLifetime("token_lifetime", d.Lifetime)
		if addFieldError(fields, err) {
			s.renderAdminAPIs(w, r, http.StatusBadRequest, d, fields)
			return
		}
		created, err := s.clientAdm.CreateAPI(r.Context(), clients.API{Identifier: d.Identifier, Name: d.Name, TokenLifetime: lifetime},
			nil, adminActor(r), meta(r))
		if errors.Is(err, clients.ErrDuplicate) {
			s.renderAdminAPIs(w, r, http.StatusBadRequest, d, map[string]string{"identifier": "An API with this identifier already exists."})
			return
		}
		if fields, ok := consoleFields(err); ok {
			s.renderAdminAPIs(w, r, http.StatusBadRequest, d, fields)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis/"+created.ID, "API created. Define its scopes below.")
	})
}

// adminAPI loads the API the path names, or answers 404.
func (s *Server) adminAPI(w http.ResponseWriter, r *http.Request) (clients.API, bool) {
	a, err := s.clients.APIByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, clients.ErrNotFound) {
		s.renderMessage(w, r, http.StatusNotFound, "No such API", "This API does not exist, or was deleted.")
		return a, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return a, false
	}
	return a, true
}

func (s *Server) handleAdminAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := s.adminAPI(w, r); ok {
			s.renderAdminAPI(w, r, http.StatusOK, a, nil)
		}
	})
}

func (s *Server) renderAdminAPI(w http.ResponseWriter, r *http.Request, status int, a clients.API, edit func(*adminAPIData, *adminView)) {
	ctx := r.Context()
	scopes, err := s.store.APIScopes(ctx, a.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	apps, err := s.clients.ListClients(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := adminAPIData{API: a, System: s.builtInAPI(a.Identifier), Name: a.Name,
		Lifetime: clients.FormatLifetime(a.TokenLifetime), Scopes: scopes, ScopeText: clients.FormatScopeList(scopes)}
	if d.RBAC, err = s.roles.APISettings(ctx, a.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, app := range apps {
		if app.Type != clients.M2M {
			continue
		}
		row := adminGrantRow{App: app}
		g, err := s.store.GrantFor(ctx, app.ID, a.Identifier)
		switch {
		case err == nil:
			row.Granted, row.Scopes = true, g.Scopes
		case !errors.Is(err, clients.ErrNotFound):
			s.serverError(w, r, err)
			return
		}
		d.Grants = append(d.Grants, row)
	}
	v := s.newAdminView(r, "apis", a.Name)
	if edit != nil {
		edit(&d, &v)
	}
	v.Data = &d
	s.renderAdmin(w, r, status, "admin-api", v)
}

// handleAdminAPISave changes an API's name and token lifetime; its
// identifier is in every token already issued, so it never changes.
func (s *Server) handleAdminAPISave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before, ok := s.adminAPI(w, r)
		if !ok {
			return
		}
		a := before
		a.Name = r.PostForm.Get("name")
		fields := map[string]string{}
		lifetime, err := clients.ParseLifetime("token_lifetime", r.PostForm.Get("token_lifetime"))
		if !addFieldError(fields, err) {
			a.TokenLifetime = lifetime
			a, err = s.clientAdm.UpdateAPI(r.Context(), a, adminActor(r), meta(r))
			if f, bad := consoleFields(err); bad {
				fields = f
			}
		}
		if len(fields) > 0 {
			s.renderAdminAPI(w, r, http.StatusBadRequest, before, func(d *adminAPIData, v *adminView) {
				d.Name, d.Lifetime = r.PostForm.Get("name"), r.PostForm.Get("token_lifetime")
				v.Fields, v.Error = fields, "Nothing was saved: correct the fields marked below."
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis/"+a.ID, "Saved. New tokens for this API use it.")
	})
}

// handleAdminAPIScopes replaces an API's scopes; grants lose the scopes that
// are gone.
func (s *Server) handleAdminAPIScopes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.adminAPI(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			s.renderMessage(w, r, http.StatusBadRequest, "Gatehouse's own scopes",
				"The scopes of Gatehouse's built-in APIs are defined by Gatehouse and cannot be changed here.")
			return
		}
		text := r.PostForm.Get("scopes")
		scopes, err := clients.ParseScopeList(text)
		if fields, bad := consoleFields(err); bad {
			s.renderAdminAPI(w, r, http.StatusBadRequest, a, func(d *adminAPIData, v *adminView) {
				d.ScopeText = text
				v.Fields, v.Error = fields, "The scopes were not saved: correct the list."
			})
			return
		}
		if err == nil {
			err = s.clientAdm.SetScopes(r.Context(), a.ID, scopes, adminActor(r), meta(r))
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis/"+a.ID, "Scopes saved.")
	})
}

// handleAdminAPIGrant authorizes a machine-to-machine application to call the
// API with the ticked scopes, or withdraws its grant.
func (s *Server) handleAdminAPIGrant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		a, ok := s.adminAPI(w, r)
		if !ok {
			return
		}
		app, err := s.clients.ClientByID(ctx, r.PostForm.Get("client_id"))
		if errors.Is(err, clients.ErrNotFound) {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if r.PostForm.Get("authorized") == "" {
			err := s.clientAdm.DeleteGrant(ctx, app.ID, a.Identifier, adminActor(r), meta(r))
			if err != nil && !errors.Is(err, clients.ErrNotFound) {
				s.serverError(w, r, err)
				return
			}
			s.seeOther(w, r, "admin/apis/"+a.ID, app.Name+" may no longer call this API.")
			return
		}
		_, err = s.clientAdm.SetGrant(ctx, app.ID, a.Identifier, r.PostForm["scope"], adminActor(r), meta(r))
		if fields, bad := consoleFields(err); bad {
			s.renderAdminAPI(w, r, http.StatusBadRequest, a, func(_ *adminAPIData, v *adminView) {
				v.Fields, v.Error = fields, "The grant was not saved."
			})
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis/"+a.ID, "Grant for "+app.Name+" saved.")
	})
}

// handleAdminAPIDelete deletes an API once the admin has typed its name.
// Tokens already issued for it keep working until they expire: they are
// signed, and the API checks them itself.
func (s *Server) handleAdminAPIDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.adminAPI(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			s.renderMessage(w, r, http.StatusBadRequest, "Gatehouse's own API",
				"This API is built into Gatehouse and cannot be deleted.")
			return
		}
		if r.PostForm.Get("confirm") != a.Name {
			s.renderAdminAPI(w, r, http.StatusBadRequest, a, func(_ *adminAPIData, v *adminView) {
				v.Fields = map[string]string{"confirm": "Type the API's name exactly to delete it."}
				v.Error = "The API was not deleted."
			})
			return
		}
		if err := s.clientAdm.DeleteAPI(r.Context(), a.Identifier, adminActor(r), meta(r)); err != nil && !errors.Is(err, clients.ErrNotFound) {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/apis", "API "+a.Name+" deleted.")
	})
}
