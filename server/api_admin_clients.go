package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
)

// clientJSON is an application as the admin API shows it. The secret is
// present only in the answer that created or rotated it.
type clientJSON struct {
	ClientID     string    `json:"client_id"`
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	Callbacks    []string  `json:"callbacks"`
	LogoutURLs   []string  `json:"logout_urls"`
	WebOrigins   []string  `json:"web_origins"`
	MFAPolicy    string    `json:"mfa_policy"` // "" follows the tenant
	ClientSecret string    `json:"client_secret,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toClientJSON(c clients.Client) clientJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return clientJSON{ClientID: c.ID, Name: c.Name, Type: string(c.Type), Callbacks: nonNil(c.Callbacks),
		LogoutURLs: nonNil(c.LogoutURLs), WebOrigins: nonNil(c.WebOrigins), MFAPolicy: c.MFAPolicy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// clientChange is the body of POST and PATCH: absent fields stay as they are.
type clientChange struct {
	ClientID   *string   `json:"client_id"`
	Name       *string   `json:"name"`
	Type       *string   `json:"type"`
	Callbacks  *[]string `json:"callbacks"`
	LogoutURLs *[]string `json:"logout_urls"`
	WebOrigins *[]string `json:"web_origins"`
	MFAPolicy  *string   `json:"mfa_policy"`
}

func (ch clientChange) applyTo(c *clients.Client) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&c.Name, ch.Name)
	set(&c.MFAPolicy, ch.MFAPolicy)
	if c.MFAPolicy == "default" {
		c.MFAPolicy = ""
	}
	for _, l := range []struct {
		dst *[]string
		v   *[]string
	}{{&c.Callbacks, ch.Callbacks}, {&c.LogoutURLs, ch.LogoutURLs}, {&c.WebOrigins, ch.WebOrigins}} {
		if l.v != nil {
			*l.dst = *l.v
		}
	}
}

// validationFields turns a clients.ValidationError into the API's field errors.
func validationFields(err error) (map[string]string, bool) {
	var v *clients.ValidationError
	if !errors.As(err, &v) {
		return nil, false
	}
	return map[string]string{v.Field: v.Problem}, true
}

func (s *Server) apiClient(w http.ResponseWriter, r *http.Request) (clients.Client, bool) {
	c, err := s.clients.ClientByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, clients.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "No application has this client id.", nil)
		return c, false
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return c, false
	}
	return c, true
}

func (s *Server) handleAPIListClients() http.Handler {
	return s.requireAdminScope("read:clients", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		list, err := s.clients.ListClients(r.Context())
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]clientJSON, len(list))
		for i, c := range list {
			out[i] = toClientJSON(c)
		}
		writeJSON(w, http.StatusOK, map[string]any{"clients": out})
	})
}

func (s *Server) handleAPIGetClient() http.Handler {
	return s.requireAdminScope("read:clients", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		if c, ok := s.apiClient(w, r); ok {
			writeJSON(w, http.StatusOK, toClientJSON(c))
		}
	})
}

// handleAPICreateClient: POST api/admin/clients. Web and m2m applications
// get a secret, returned this once.
func (s *Server) handleAPICreateClient() http.Handler {
	return s.requireAdminScope("create:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		var body clientChange
		if !decodeBody(w, r, &body) {
			return
		}
		var c clients.Client
		if body.ClientID != nil {
			c.ID = *body.ClientID
		}
		if body.Type != nil {
			c.Type = clients.Type(*body.Type)
		}
		body.applyTo(&c)
		c, secret, err := s.clientAdm.CreateClient(r.Context(), c, apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_client", "The application was not created.", fields)
			return
		}
		if errors.Is(err, clients.ErrDuplicate) {
			apiError(w, http.StatusConflict, "duplicate", "An application with this client id exists.", map[string]string{"client_id": "is taken"})
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeClient(w, http.StatusCreated, c, secret)
	})
}

// handleAPIUpdateClient: PATCH api/admin/clients/{id}. The type and id
// cannot change: they decide how the application authenticates.
func (s *Server) handleAPIUpdateClient() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		var body clientChange
		if !decodeBody(w, r, &body) {
			return
		}
		if c.BuiltIn() {
			apiError(w, http.StatusConflict, "built_in", "Gatehouse manages this application itself.", nil)
			return
		}
		if body.ClientID != nil || body.Type != nil {
			apiError(w, http.StatusBadRequest, "immutable", "The client id and type of an application cannot change; create another.", nil)
			return
		}
		body.applyTo(&c)
		c, err := s.clientAdm.UpdateClient(r.Context(), c, apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_client", "The application was not changed.", fields)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeClient(w, http.StatusOK, c, "")
	})
}

// writeClient answers with the application, and its new secret when there
// is one.
func writeClient(w http.ResponseWriter, status int, c clients.Client, secret string) {
	out := toClientJSON(c)
	out.ClientSecret = secret
	writeJSON(w, status, out)
}

// handleAPIRotateSecret: POST api/admin/clients/{id}/rotate-secret. The old
// secret stops working at once.
func (s *Server) handleAPIRotateSecret() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		if c.BuiltIn() {
			apiError(w, http.StatusConflict, "built_in", "Gatehouse manages this application itself.", nil)
			return
		}
		c, secret, err := s.clientAdm.RotateSecret(r.Context(), c.ID, apiActor(caller), meta(r))
		if _, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "public_client", "A public application (single-page or native) has no secret to rotate.", nil)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeClient(w, http.StatusOK, c, secret)
	})
}

// handleAPIDeleteClient: DELETE api/admin/clients/{id}; its tokens go with it.
func (s *Server) handleAPIDeleteClient() http.Handler {
	return s.requireAdminScope("delete:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		if c.BuiltIn() {
			apiError(w, http.StatusConflict, "built_in", "Gatehouse manages this application itself.", nil)
			return
		}
		if c.ID == caller.ClientID {
			apiError(w, http.StatusConflict, "self", "An application cannot delete itself through the admin API.", nil)
			return
		}
		if err := s.clientAdm.DeleteClient(r.Context(), c.ID, apiActor(caller), meta(r)); err != nil && !errors.Is(err, clients.ErrNotFound) {
			s.apiServerError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// grantJSON is one machine-to-machine grant.
type grantJSON struct {
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

func (s *Server) handleAPIListGrants() http.Handler {
	return s.requireAdminScope("read:clients", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		grants, err := s.store.GrantsOf(r.Context(), c.ID)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]grantJSON, len(grants))
		for i, g := range grants {
			out[i] = grantJSON{Audience: g.Audience, Scopes: g.Scopes}
		}
		writeJSON(w, http.StatusOK, map[string]any{"grants": out})
	})
}

// handleAPISetGrant: PUT api/admin/clients/{id}/grants with {"audience",
// "scopes"} creates or replaces the application's grant for that API.
func (s *Server) handleAPISetGrant() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		var body grantJSON
		if !decodeBody(w, r, &body) {
			return
		}
		g, err := s.clientAdm.SetGrant(r.Context(), c.ID, body.Audience, body.Scopes, apiActor(caller), meta(r))
		if fields, ok := validationFields(err); ok {
			apiError(w, http.StatusBadRequest, "invalid_grant", "The grant was not changed.", fields)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, grantJSON{Audience: g.Audience, Scopes: g.Scopes})
	})
}

// handleAPIDeleteGrant: DELETE api/admin/clients/{id}/grants?audience=…
func (s *Server) handleAPIDeleteGrant() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		err := s.clientAdm.DeleteGrant(r.Context(), c.ID, r.URL.Query().Get("audience"), apiActor(caller), meta(r))
		if _, unknown := validationFields(err); unknown || errors.Is(err, clients.ErrNotFound) {
			apiError(w, http.StatusNotFound, "not_found", "The application has no grant for this audience.", nil)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
