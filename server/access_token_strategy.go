package server

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// accessTokenStrategy issues a JWT access token (RFC 9068) only to a grant
// that names an API audience, and fosite's opaque HMAC token otherwise, as
// Auth0 does. A token without an audience can only call /userinfo, which
// looks every access token up in the store anyway, so its signature would buy
// nothing: a JWT with no aud is no valid RFC 9068 token either, and a refresh
// without an audience signs only the ID token.
//
// Both kinds are stored under their signature, so introspection, revocation
// and /userinfo treat them alike. Which kind a presented token is follows from
// its form: a JWT has three dot-separated parts, fosite's HMAC token two.
// Refresh tokens and authorization codes are HMAC tokens as before.
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
	opaque oauth2.CoreStrategy
}

var _ oauth2.CoreStrategy = (*accessTokenStrategy)(nil)

func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

func (s *accessTokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (token, signature string, err error) {
	if len(r.GetGrantedAudience()) == 0 {
		return s.opaque.GenerateAccessToken(ctx, r)
	}
	return s.DefaultJWTStrategy.GenerateAccessToken(ctx, r)
}

func (s *accessTokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return s.DefaultJWTStrategy.AccessTokenSignature(ctx, token)
	}
	return s.opaque.AccessTokenSignature(ctx, token)
}

func (s *accessTokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		return s.DefaultJWTStrategy.ValidateAccessToken(ctx, r, token)
	}
	return s.opaque.ValidateAccessToken(ctx, r, token)
}
