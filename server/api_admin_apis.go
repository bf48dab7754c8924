package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
)

// apiJSON is an API (a resource server) as the admin API shows it.
type apiJSON struct {
	ID                   string          `json:"id"`
	Identifier           string          `json:"identifier"`
	Name                 string          `json:"name"`
	TokenLifetimeSeconds int64           `json:"token_lifetime_seconds"`
	Scopes               []clients.Scope `json:"scopes"`
	BuiltIn              bool            `json:"built_in"`
	CreatedAt            time.Time       `json:"created_at"`
}

type scopeJSON struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

func scopesFromJSON(in []scopeJSON) []clients.Scope {
	out := make([]clients.Scope, len(in))
	for i, s := range in {
		out[i] = clients.Scope{Value: s.Value, Description: s.Description}
	}
	return out
}

func (s *Server) toAPIJSON(r *http.Request, a clients.API) (apiJSON, error) {
	scopes, err := s.store.APIScopes(r.Context(), a.ID)
	if scopes == nil {
		scopes = []clients.Scope{}
	}
	return apiJSON{ID: a.ID, Identifier: a.Identifier, Name: a.Name, TokenLifetimeSeconds: int64(a.TokenLifetime / time.Second),
		Scopes: scopes, BuiltIn: s.builtInAPI(a.Identifier), CreatedAt: a.CreatedAt}, err
}

// apiByID finds an API by its id (the path's {id}).
func (s *Server) apiByID(w http.ResponseWriter, r *http.Request) (clients.API, bool) {
	a, err := s.clients.APIByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, clients.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "No API has this id.", nil)
		return a, false
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return a, false
	}
	return a, true
}

func (s *Server) handleAPIListAPIs() http.Handler {
	return s.requireAdminScope("read:apis", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		list, err := s.clients.ListAPIs(r.Context())
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]apiJSON, len(list))
		for i, a := range list {
			if out[i], err = s.toAPIJSON(r, a); err != nil {
				s.apiServerError(w, r, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"apis": out})
	})
}

func (s *Server) handleAPIGetAPI() http.Handler {
	return s.requireAdminScope("read:apis", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		out, err := s.toAPIJSON(r, a)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleAPICreateAPI: POST api/admin/apis with identifier, name,
// token_lifetime_seconds (default a day) and scopes.
func (s *Server) handleAPICreateAPI() http.Handler {
	return s.requireAdminScope("create:apis", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		var body struct {
			Identifier           string      `json:"identifier"`
			Name                 string      `json:"name"`
			TokenLifetimeSeconds *int64      `json:"token_lifetime_seconds"`
			Scopes               []scopeJSON `json:"scopes"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		a := clients.API{Identifier: body.Identifier, Name: body.Name}
		if body.TokenLifetimeSeconds != nil {
			a.TokenLifetime = time.Duration(*body.TokenLifetimeSeconds) * time.Second
		}
		created, err := s.clientAdm.CreateAPI(r.Context(), a, scopesFromJSON(body.Scopes), apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_api", "The API was not created.", fields)
			return
		}
		if errors.Is(err, clients.ErrDuplicate) {
			apiError(w, http.StatusConflict, "duplicate", "An API with this identifier exists.", map[string]string{"identifier": "is taken"})
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out, err := s.toAPIJSON(r, created)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

// handleAPIUpdateAPI: PATCH api/admin/apis/{id} with name and/or
// token_lifetime_seconds; the identifier never changes, since tokens carry it.
func (s *Server) handleAPIUpdateAPI() http.Handler {
	return s.requireAdminScope("update:apis", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		var body struct {
			Name                 *string `json:"name"`
			TokenLifetimeSeconds *int64  `json:"token_lifetime_seconds"`
			Identifier           *string `json:"identifier"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if body.Identifier != nil && *body.Identifier != a.Identifier {
			apiError(w, http.StatusBadRequest, "immutable", "An API's identifier cannot change: tokens carry it as their audience. Create another API.", nil)
			return
		}
		if body.Name != nil {
			a.Name = *body.Name
		}
		if body.TokenLifetimeSeconds != nil {
			a.TokenLifetime = time.Duration(*body.TokenLifetimeSeconds) * time.Second
		}
		a, err := s.clientAdm.UpdateAPI(r.Context(), a, apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_api", "The API was not changed.", fields)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out, err := s.toAPIJSON(r, a)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleAPISetScopes: PUT api/admin/apis/{id}/scopes with a list of scopes;
// grants lose the scopes that are gone.
func (s *Server) handleAPISetScopes() http.Handler {
	return s.requireAdminScope("update:apis", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			apiError(w, http.StatusConflict, "built_in", "This API's scopes are built in.", nil)
			return
		}
		var body []scopeJSON
		if !decodeBody(w, r, &body) {
			return
		}
		err := s.clientAdm.SetScopes(r.Context(), a.ID, scopesFromJSON(body), apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_api", "The scopes were not changed.", fields)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out, err := s.toAPIJSON(r, a)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleAPIDeleteAPI: DELETE api/admin/apis/{id}. The built-in APIs stay.
func (s *Server) handleAPIDeleteAPI() http.Handler {
	return s.requireAdminScope("delete:apis", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		a, ok := s.apiByID(w, r)
		if !ok {
			return
		}
		if s.builtInAPI(a.Identifier) {
			apiError(w, http.StatusConflict, "built_in", "Gatehouse's built-in APIs cannot be deleted.", nil)
			return
		}
		if err := s.clientAdm.DeleteAPI(r.Context(), a.Identifier, apiActor(caller), meta(r)); err != nil && !errors.Is(err, clients.ErrNotFound) {
			s.apiServerError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
