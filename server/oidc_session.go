package server

import (
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// oidcSession is what fosite stores with every code and token. It must be one
// concrete type: it is serialised to Postgres as JSON and read back into a
// fresh instance.
type oidcSession struct {
	*openid.DefaultSession `json:"oidc"`
	ClientID               string `json:"client_id"`
	// Userinfo is the issuer's userinfo URL; access tokens for OIDC requests
	// carry it as a second audience, as Auth0's do.
	Userinfo string `json:"userinfo,omitempty"`
	// PublicSubject is the user's subject, the sub of every token issued
	// under this session; Subject stays the user's id, which the stored
	// tokens are keyed by. Empty in sessions stored before subjects
	// existed (their subject was the id) and for machine clients.
	PublicSubject string `json:"sub,omitempty"`
}

// publicSubject is the sub the session's tokens carry.
func (s *oidcSession) publicSubject() string {
	if s.PublicSubject != "" {
		return s.PublicSubject
	}
	return s.Subject
}

func newOIDCSession() *oidcSession {
	return &oidcSession{DefaultSession: openid.NewDefaultSession()}
}

// Clone keeps the concrete type; fosite clones sessions between steps.
func (s *oidcSession) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.DefaultSession = s.DefaultSession.Clone().(*openid.DefaultSession)
	return &c
}

// GetJWTClaims makes the access token's claims: sub, client_id (RFC 9068),
// azp (what Auth0's libraries read) and, for OIDC requests, the userinfo
// audience; fosite adds exp, iat, iss, scope, aud and a fresh jti.
func (s *oidcSession) GetJWTClaims() jwt.JWTClaimsContainer {
	return &accessTokenClaims{
		JWTClaims: &jwt.JWTClaims{
			Subject: s.publicSubject(),
			Extra:   map[string]any{"client_id": s.ClientID, "azp": s.ClientID},
		},
		userinfo: s.Userinfo,
	}
}

func (s *oidcSession) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
}

// accessTokenClaims appends the userinfo audience to the granted ones.
type accessTokenClaims struct {
	*jwt.JWTClaims
	userinfo string
}

func (c *accessTokenClaims) With(expiry time.Time, scope, audience []string) jwt.JWTClaimsContainer {
	if c.userinfo != "" && slices.Contains(scope, "openid") && !slices.Contains(audience, c.userinfo) {
		audience = append(slices.Clone(audience), c.userinfo)
	}
	return c.JWTClaims.With(expiry, scope, audience)
}
