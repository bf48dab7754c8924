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
	// UserID is the logged-in user's id, which roles are looked up by
	// whatever the subject claim says; empty in sessions older than it, whose
	// Subject is the user's id.
	UserID string `json:"user_id,omitempty"`
	// Audiences are the APIs the authorization request was granted.
	Audiences []string `json:"audiences,omitempty"`
	// Permissions is the access token's "permissions" claim, worked out
	// afresh at every token request (package roles); nil leaves it out. It
	// is never stored: fosite reads a code's stored session back into this
	// one between our work and the signing, and a stored value would
	// overwrite the fresh one.
	Permissions []string `json:"-"`
	// Custom are the application's custom claims for the access token,
	// worked out afresh at every token request like Permissions.
	Custom map[string]any `json:"-"`
}

// publicSubject is the sub the session's tokens carry.
func (s *oidcSession) publicSubject() string {
	if s.PublicSubject != "" {
		return s.PublicSubject
	}
	return s.Subject
}

// userID is the id of the user the session is for.
func (s *oidcSession) userID() string {
	if s.UserID != "" {
		return s.UserID
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
// azp (what Auth0's libraries read), permissions when the API asks for them
// and, for OIDC requests, the userinfo audience; fosite adds exp, iat, iss, scope, aud and a fresh jti.
func (s *oidcSession) GetJWTClaims() jwt.JWTClaimsContainer {
	extra := map[string]any{"client_id": s.ClientID, "azp": s.ClientID}
	for k, v := range s.Custom {
		extra[k] = v // URL names, which no claim set here can be
	}
	if s.Permissions != nil {
		extra["permissions"] = s.Permissions
	}
	return &accessTokenClaims{
		JWTClaims: &jwt.JWTClaims{
			Subject: s.publicSubject(),
			Extra:   extra,
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
