package server

import (
	"context"
	"errors"
	"slices"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/claims"
	"github.com/gatehouse-id/gatehouse/roles"
)

// Roles reach tokens here, by package roles' rules: at the authorization
// request a user's requested API scopes are granted as far as their
// permissions go, and at every token request (code exchange and each
// refresh) the scopes are cut again to the permissions the user holds now
// and the "permissions" claim is worked out afresh, so a role taken away is
// gone from the next token.

// grantRoleScopes grants the requested API scopes the user holds as
// permissions, when the one API asked for enforces RBAC.
func (s *Server) grantRoleScopes(ctx context.Context, ar fosite.AuthorizeRequester, userID string) error {
	if s.roles == nil || len(ar.GetGrantedAudience()) == 0 {
		return nil
	}
	d, applies, err := s.roles.ForUserToken(ctx, userID, ar.GetGrantedAudience(), apiScopesOf(ar.GetRequestedScopes()))
	if err != nil {
		return roleRefusal(err)
	}
	if applies {
		for _, sc := range d.Scopes {
			ar.GrantScope(sc)
		}
	}
	return nil
}

// applyRoles sets the access token's API scopes and permissions claim for
// the request's grant.
func (s *Server) applyRoles(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*oidcSession)
	if !ok {
		return nil
	}
	audiences := ar.GetGrantedAudience()
	if len(audiences) == 0 {
		// A code's audiences are granted to the token request only when
		// fosite issues the token, after this; the session kept them.
		audiences = sess.Audiences
	}
	if s.roles == nil || len(audiences) == 0 {
		return nil
	}
	if ar.GetGrantTypes().ExactOne(string(fosite.GrantTypeClientCredentials)) {
		perms, err := s.roles.ForClientToken(ctx, audiences, ar.GetGrantedScopes())
		if err != nil {
			return roleRefusal(err)
		}
		sess.Permissions = perms
		return nil
	}
	d, _, err := s.roles.ForUserToken(ctx, sess.userID(), audiences, apiScopesOf(ar.GetGrantedScopes()))
	if err != nil {
		return roleRefusal(err)
	}
	// Without RBAC a user gets no API scope (d.Scopes is empty), which also
	// cuts scopes granted while the API still enforced it. (A code's scopes
	// are granted again by fosite as it issues the token: they were decided
	// at the authorization request, moments ago.)
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithHint("unexpected access request type")
	}
	req.GrantedScope = slices.DeleteFunc(slices.Clone(req.GrantedScope), func(sc string) bool {
		return !slices.Contains(scopesSupported, sc) && !slices.Contains(d.Scopes, sc)
	})
	sess.Permissions = d.Permissions
	return s.applyCustomClaims(ctx, ar, sess, audiences)
}

// applyCustomClaims sets the access token's custom claims for the user the
// session is for.
func (s *Server) applyCustomClaims(ctx context.Context, ar fosite.AccessRequester, sess *oidcSession, audiences []string) error {
	user := func() (account.User, error) { return s.accounts.User(ctx, sess.userID()) }
	custom, err := s.customClaims(ctx, ar.GetClient().GetID(), user, audiences, claims.AccessToken)
	if errors.Is(err, account.ErrNotFound) {
		return fosite.ErrInvalidGrant.WithHint("The user no longer exists.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	sess.Custom = custom
	return nil
}

// apiScopesOf are the scopes that are not OpenID's.
func apiScopesOf(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if !slices.Contains(scopesSupported, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func roleRefusal(err error) error {
	if errors.Is(err, roles.ErrOneAPI) {
		return fosite.ErrInvalidRequest.WithHint("Ask for one API (audience) at a time: " + err.Error() + ".")
	}
	return fosite.ErrServerError.WithWrap(err)
}
