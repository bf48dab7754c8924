package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/account"
)

// handleUserinfo returns the claims of the access token's user for the scopes
// the token carries.
func (s *Server) handleUserinfo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s.allowClientOrigin(w, r, "")
		token := fosite.AccessTokenFromRequest(r)
		if token == "" {
			bearerError(w, http.StatusUnauthorized, "invalid_request", "No access token was sent.")
			return
		}
		_, ar, err := s.oauth.IntrospectToken(ctx, token, fosite.AccessToken, newOIDCSession())
		if err != nil {
			bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
			return
		}
		if !ar.GetGrantedScopes().Has("openid") {
			bearerError(w, http.StatusForbidden, "insufficient_scope", "The access token was not issued for OpenID Connect.")
			return
		}
		user, err := s.accounts.User(ctx, ar.GetSession().GetSubject())
		if errors.Is(err, account.ErrNotFound) {
			bearerError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		claims := s.userClaims(user, ar.GetGrantedScopes())
		claims["sub"] = subjectOf(user)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(claims)
	})
}

func bearerError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+strings.ReplaceAll(description, `"`, `'`)+`"`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// handleRevoke is RFC 7009 revocation; revoking a refresh token also revokes
// the access tokens of its family.
func (s *Server) handleRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.allowClientOrigin(w, r, clientIDOf(r))
		err := s.oauth.NewRevocationRequest(r.Context(), r)
		s.oauth.WriteRevocationResponse(r.Context(), w, err)
	})
}

// handleIntrospect is RFC 7662 introspection for confidential clients: the
// caller must authenticate with its secret (fosite alone would also take any
// access token as credentials, letting an SPA's token probe others), and it
// learns about its own tokens only. Another application's token is answered
// {"active":false}, as RFC 7662 §2.2 allows for a token the caller has no
// business with, so a client that comes across a stranger's token learns
// neither whose it is nor whether it is live. Resource servers check the JWT
// access tokens issued for them against the JWKS instead; an opaque token
// (issued when no API was named) is for /userinfo alone.
func (s *Server) handleIntrospect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, secret, ok := basicCredentials(r)
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		c, err := s.clients.ClientByID(ctx, id)
		if err != nil || c.Public() || !c.VerifySecret(secret) {
			w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client",
				"error_description": "Introspection needs the credentials of a confidential client."})
			return
		}
		if r.Header.Get("Authorization") == "" {
			// fosite reads client credentials only from Basic auth; hand it the
			// ones from the body, form-encoded as RFC 6749 §2.3.1 has them.
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		ir, err := s.oauth.NewIntrospectionRequest(ctx, r, newOIDCSession())
		if err != nil {
			s.oauth.WriteIntrospectionError(ctx, w, err)
			return
		}
		if owner := ir.GetAccessRequester().GetClient(); owner == nil || owner.GetID() != c.ID {
			s.oauth.WriteIntrospectionResponse(ctx, w, &fosite.IntrospectionResponse{Active: false})
			return
		}
		if sess, ok := ir.GetAccessRequester().GetSession().(*oidcSession); ok && sess.PublicSubject != "" {
			// fosite answers the session's Subject, the user's id; the
			// token says the public subject, and so must introspection.
			public := sess.Clone().(*oidcSession)
			public.Subject = sess.PublicSubject
			ir.GetAccessRequester().SetSession(public)
		}
		s.oauth.WriteIntrospectionResponse(ctx, w, ir)
	})
}
