package server

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// handleToken is the token endpoint: authorization_code (with PKCE),
// refresh_token and client_credentials, from a form or a JSON body.
func (s *Server) handleToken() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := withClientMemo(r.Context())
		if err := jsonBodyAsForm(r); err != nil {
			s.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(nil), fosite.ErrInvalidRequest.WithHint(err.Error()))
			return
		}
		if postedGrantType(r) == "refresh_token" {
			ctx = store.WithRefreshTokenPrefetch(ctx, s.refreshTokens.RefreshTokenSignature(ctx, r.PostForm.Get("refresh_token")))
		}
		s.allowClientOrigin(w, r, clientIDOf(r))
		if gt := postedGrantType(r); gt != "" && !slices.Contains(grantTypesSupported, gt) {
			// fosite answers invalid_request when no handler takes the
			// grant; RFC 6749 §5.2 names this error.
			s.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(nil), fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt))
			return
		}
		ar, err := s.oauth.NewAccessRequest(ctx, r, newOIDCSession())
		if err != nil {
			s.oauth.WriteAccessError(ctx, w, ar, refreshRefusal(r, err))
			return
		}
		if ar.GetGrantTypes().ExactOne(string(fosite.GrantTypeClientCredentials)) {
			if err := s.grantClientCredentials(ctx, ar); err != nil {
				s.oauth.WriteAccessError(ctx, w, ar, err)
				return
			}
		}
		if err := s.applyRoles(ctx, ar); err != nil {
			s.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		if err := s.applyAPILifetime(ctx, ar); err != nil {
			s.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		resp, err := s.oauth.NewAccessResponse(ctx, ar)
		if err != nil {
			s.oauth.WriteAccessError(ctx, w, ar, refreshRefusal(r, grantGone(err)))
			return
		}
		s.oauth.WriteAccessResponse(ctx, w, ar, resp)
	})
}

// grantTypesSupported are the grants the token endpoint takes, as discovery
// advertises them.
var grantTypesSupported = []string{"authorization_code", "refresh_token", "client_credentials"}

// postedGrantType is the request's grant_type, read without consuming
// anything fosite reads after it.
func postedGrantType(r *http.Request) string {
	if r.PostForm == nil {
		r.ParseForm()
	}
	return r.PostForm.Get("grant_type")
}

// refreshRefusal words a refused refresh token as Auth0 does ("Unknown or
// invalid refresh token."): the Auth0 SPA SDK looks for "invalid refresh
// token" to fall back to silent authentication.
func refreshRefusal(r *http.Request, err error) error {
	if r.PostForm.Get("grant_type") != "refresh_token" || !errors.Is(err, fosite.ErrInvalidGrant) {
		return err
	}
	return fosite.ErrInvalidGrant.WithHint("Unknown or invalid refresh token.").WithWrap(err)
}

// grantGone answers invalid_grant (RFC 6749 §5.2) when the code or refresh
// token was redeemed, rotated or revoked by another request between fosite's
// check of it and its writes: fosite words that server_error for a code and
// "please retry" (invalid_request) for a refresh token, though the grant is
// gone and a retry cannot succeed; the Auth0 SDK would report the one and
// throw on the other instead of signing the user in again.
func grantGone(err error) error {
	for _, gone := range []error{fosite.ErrInvalidatedAuthorizeCode, fosite.ErrNotFound, fosite.ErrInactiveToken, fosite.ErrSerializationFailure} {
		if errors.Is(err, gone) {
			return fosite.ErrInvalidGrant.WithHint("The grant was redeemed, rotated or revoked by another request.").WithWrap(err)
		}
	}
	return err
}

// grantClientCredentials grants a machine client the audiences it asked for
// (fosite has checked they are registered APIs) and names it as the subject,
// as Auth0 does ("<client id>@clients"). An API that defines scopes answers
// only clients it has a grant for, with the granted scopes: all of them when
// none are asked for, and a refusal for one outside the grant. It must name
// an API: a JWT access token without an aud is no token at all (RFC 9068
// §2.2), and Auth0 refuses the request too.
func (s *Server) grantClientCredentials(ctx context.Context, ar fosite.AccessRequester) error {
	if len(ar.GetRequestedAudience()) == 0 {
		return fosite.ErrInvalidRequest.WithHint("The 'audience' parameter is missing: name the API the token is for.")
	}
	requested := []string(ar.GetRequestedScopes())
	granted := requested
	clientID := ar.GetClient().GetID()
	for _, aud := range ar.GetRequestedAudience() {
		api, err := s.clients.APIByIdentifier(ctx, aud)
		if err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		defined, err := s.store.APIScopes(ctx, api.ID)
		if err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		if len(defined) > 0 {
			g, err := s.store.GrantFor(ctx, clientID, aud)
			if errors.Is(err, clients.ErrNotFound) {
				return fosite.ErrAccessDenied.WithHintf("The application is not authorized to access %q: an admin must grant it this API.", aud)
			}
			if err != nil {
				return fosite.ErrServerError.WithWrap(err)
			}
			if granted, err = clients.GrantedScopes(g, requested); err != nil {
				return fosite.ErrInvalidScope.WithHint(err.Error() + ".")
			}
		}
		ar.GrantAudience(aud)
	}
	for _, scope := range granted {
		ar.GrantScope(scope)
	}
	if sess, ok := ar.GetSession().(*oidcSession); ok {
		sess.Subject = clientID + "@clients"
		sess.ClientID = clientID
	}
	return nil
}

// applyAPILifetime gives the access token the token lifetime of the API it is
// for (the shortest, when several), as Auth0's per-API setting does. fosite
// has set the default expiry by now and reads it back from the session.
func (s *Server) applyAPILifetime(ctx context.Context, ar fosite.AccessRequester) error {
	audiences := ar.GetRequestedAudience()
	if len(audiences) == 0 {
		return nil
	}
	apis, err := s.clients.ListAPIs(ctx)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	var lifetime time.Duration
	for _, a := range apis {
		if slices.Contains(audiences, a.Identifier) && (lifetime == 0 || a.TokenLifetime < lifetime) {
			lifetime = a.TokenLifetime
		}
	}
	if lifetime > 0 {
		ar.GetSession().SetExpiresAt(fosite.AccessToken, time.Now().UTC().Add(lifetime).Round(time.Second))
	}
	return nil
}

// jsonBodyAsForm lets the token endpoint take a JSON object, as Auth0's does,
// by presenting its string fields as the form fosite reads.
func jsonBodyAsForm(r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return nil
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return errBadJSON
	}
	form := url.Values{}
	for k, v := range body {
		switch v := v.(type) {
		case string:
			form.Set(k, v)
		case float64, bool:
			b, _ := json.Marshal(v)
			form.Set(k, string(b))
		}
	}
	r.PostForm, r.Form = form, form
	return nil
}

type requestError string

func (e requestError) Error() string { return string(e) }

const errBadJSON = requestError("the request body is not a JSON object")

// basicCredentials reads a client's id and secret from Basic auth, where
// RFC 6749 §2.3.1 has them form-encoded before they are joined; strict
// libraries encode even "-" and "_". A part that does not decode is taken
// as it is, which can only fail to match.
func basicCredentials(r *http.Request) (id, secret string, ok bool) {
	id, secret, ok = r.BasicAuth()
	if !ok {
		return "", "", false
	}
	if dec, err := url.QueryUnescape(id); err == nil {
		id = dec
	}
	if dec, err := url.QueryUnescape(secret); err == nil {
		secret = dec
	}
	return id, secret, true
}

// clientIDOf finds the client a token or revocation request names, without
// authenticating it (that is fosite's job): it only chooses CORS headers.
func clientIDOf(r *http.Request) string {
	if id, _, ok := basicCredentials(r); ok {
		return id
	}
	if r.PostForm == nil {
		r.ParseForm()
	}
	return strings.TrimSpace(r.PostForm.Get("client_id"))
}
