package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/clients"
)

// The admin JSON API under api/admin/ has the console's powers for scripts
// and deployment tools. Callers are machine-to-machine applications holding
// an access token for the admin API's audience (<issuer>api/admin/) with the
// scope each endpoint names; the grant is checked again on every call, so
// taking it away takes effect at once. Errors have one shape:
//
//	{"statusCode": 400, "error": "Bad Request", "errorCode": "invalid_body",
//	 "message": "…", "fields": {"callbacks": "…"}}

// AdminScopes are the admin API's scopes, as an admin grants them.
var AdminScopes = []clients.Scope{
	{Value: "read:users", Description: "Search and read users, their factors, sessions and risk assessments"},
	{Value: "update:users", Description: "Block, unblock, promote, reset MFA, remove passkeys, end sessions"},
	{Value: "delete:users", Description: "Delete users"},
	{Value: "read:clients", Description: "Read applications"},
	{Value: "create:clients", Description: "Create applications"},
	{Value: "update:clients", Description: "Change applications, rotate their secrets, manage their grants"},
	{Value: "delete:clients", Description: "Delete applications"},
	{Value: "read:apis", Description: "Read APIs"},
	{Value: "create:apis", Description: "Create APIs"},
	{Value: "update:apis", Description: "Change APIs and their scopes"},
	{Value: "delete:apis", Description: "Delete APIs"},
	{Value: "read:settings", Description: "Read the MFA policy, SMS provider (never its secrets), limits"},
	{Value: "update:settings", Description: "Change settings, including provider secrets"},
	{Value: "read:logs", Description: "Read the audit log"},
	{Value: "read:stats", Description: "Read the dashboard figures"},
	{Value: "read:roles", Description: "Read roles and their permissions"},
	{Value: "create:roles", Description: "Create roles"},
	{Value: "update:roles", Description: "Change roles and their permissions"},
	{Value: "delete:roles", Description: "Delete roles"},
}

// AdminAPIPath is where the admin API lives under the issuer; with the issuer
// in front it is also the API's identifier.
const AdminAPIPath = "api/admin/"

// AdminAudience is the admin API's identifier: the audience its tokens carry.
func (s *Server) AdminAudience() string { return s.cfg.Issuer.String() + AdminAPIPath }

// EnsureAdminAPI registers the built-in APIs and their scopes, the admin
// API and the Management API subset, so that an admin can grant them to
// machine-to-machine applications. Every start runs it; it changes nothing
// once done, and keeps a lifetime an admin chose.
func (s *Server) EnsureAdminAPI(ctx context.Context) error {
	if err := s.ensureAPI(ctx, clients.API{Identifier: s.AdminAudience(), Name: "Gatehouse Admin API",
		TokenLifetime: adminTokenLifetime}, AdminScopes); err != nil {
		return fmt.Errorf("register the admin API: %w", err)
	}
	if err := s.ensureAPI(ctx, clients.API{Identifier: s.ManagementAudience(), Name: "Auth0 Management API (users)",
		TokenLifetime: adminTokenLifetime}, ManagementScopes); err != nil {
		return fmt.Errorf("register the Management API: %w", err)
	}
	return nil
}

// ensureAPI creates api unless an API has its identifier, and gives it
// scopes.
func (s *Server) ensureAPI(ctx context.Context, want clients.API, scopes []clients.Scope) error {
	api, err := s.clients.APIByIdentifier(ctx, want.Identifier)
	if errors.Is(err, clients.ErrNotFound) {
		api, err = s.clients.CreateAPI(ctx, want)
		if errors.Is(err, clients.ErrDuplicate) { // another replica created it first
			api, err = s.clients.APIByIdentifier(ctx, want.Identifier)
		}
	}
	if err != nil {
		return err
	}
	have, err := s.store.APIScopes(ctx, api.ID)
	if err != nil {
		return err
	}
	if !slices.Equal(have, sortedScopes(scopes)) {
		if err := s.store.SetAPIScopes(ctx, api.ID, scopes); err != nil {
			return fmt.Errorf("set its scopes: %w", err)
		}
	}
	return nil
}

const adminTokenLifetime = time.Hour // one hour: a leaked token of these powers should die soon

func sortedScopes(in []clients.Scope) []clients.Scope {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b clients.Scope) int { return strings.Compare(a.Value, b.Value) })
	return out
}

// apiCaller is the application behind an admin API call.
type apiCaller struct{ ClientID string }

// actor names it in the audit log and the settings history.
func (c apiCaller) actor() string { return "api:" + c.ClientID }

type apiHandler func(w http.ResponseWriter, r *http.Request, caller apiCaller)

// requireAdminScope admits a machine-to-machine token for the admin API that
// carries scope and whose grant still does.
func (s *Server) requireAdminScope(scope string, next apiHandler) http.Handler {
	return s.requireScope(s.AdminAudience(), "admin API", scope, next)
}

// requireScope admits a machine-to-machine token for the API audience that
// carries scope and whose grant still does: a user's token, one for another
// API, or one whose grant lost the scope is refused.
func (s *Server) requireScope(audience, realm, scope string, next apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		w.Header().Set("Cache-Control", "no-store")
		token := fosite.AccessTokenFromRequest(r)
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			apiError(w, http.StatusUnauthorized, "missing_token", "Send an access token for the "+realm+": Authorization: Bearer <token>.", nil)
			return
		}
		_, ar, err := s.oauth.IntrospectToken(ctx, token, fosite.AccessToken, newOIDCSession())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			apiError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.", nil)
			return
		}
		if !slices.Contains(ar.GetGrantedAudience(), audience) {
			apiError(w, http.StatusUnauthorized, "invalid_audience", "The access token is not for the "+realm+" ("+audience+").", nil)
			return
		}
		clientID := ar.GetClient().GetID()
		if ar.GetSession().GetSubject() != clientID+"@clients" {
			apiError(w, http.StatusForbidden, "machine_only", "The "+realm+" takes tokens of machine-to-machine applications (client credentials) only.", nil)
			return
		}
		g, err := s.store.GrantFor(ctx, clientID, audience)
		if err != nil && !errors.Is(err, clients.ErrNotFound) {
			s.apiServerError(w, r, err)
			return
		}
		if !ar.GetGrantedScopes().Has(scope) || !slices.Contains(g.Scopes, scope) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
			apiError(w, http.StatusForbidden, "insufficient_scope", "Insufficient scope, expected any of: "+scope+".", nil)
			return
		}
		next(w, r, apiCaller{ClientID: clientID})
	})
}

// apiError writes the admin API's error shape.
func apiError(w http.ResponseWriter, status int, code, message string, fields map[string]string) {
	writeJSON(w, status, struct {
		StatusCode int               `json:"statusCode"`
		Error      string            `json:"error"`
		ErrorCode  string            `json:"errorCode"`
		Message    string            `json:"message"`
		Fields     map[string]string `json:"fields,omitempty"`
	}{status, http.StatusText(status), code, message, fields})
}

// apiServerError logs err and answers 503 while the database is down, else 500,
// without details: the request id in X-Request-Id finds them in the log.
func (s *Server) apiServerError(w http.ResponseWriter, r *http.Request, err error) {
	if s.unavailable(r.Context(), err) {
		s.logger(r.Context()).Warn("database unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfterOutage)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; try again in a moment.", nil)
		return
	}
	s.logger(r.Context()).Error("admin API request failed", "path", r.URL.Path, "err", err)
	apiError(w, http.StatusInternalServerError, "server_error", "An unexpected error occurred; quote the X-Request-Id header to support.", nil)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// decodeBody reads a JSON object into dst, refusing unknown fields, trailing
// data and oversized bodies with the API's error shape.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.", nil)
		return false
	case err != nil:
		apiError(w, http.StatusBadRequest, "invalid_body", "The body is not the JSON this call takes: "+jsonProblem(err), nil)
		return false
	}
	return true
}

// jsonProblem words a decoding error without echoing the whole body.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s must be %s", typeErr.Field, typeErr.Type)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
