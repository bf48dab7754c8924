package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
)

// acrMultiFactor is the acr of a login that passed a second factor (OpenID
// PAPE), what Auth0 puts in its tokens.
const acrMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// newUserSession builds what fosite signs for a logged-in user. Profile and
// email claims go into the ID token itself: the Auth0 SDK reads the user from
// it and never calls userinfo.
func (s *Server) newUserSession(si signedIn, clientID string, scopes []string, requestedAt time.Time) *oidcSession {
	sess := newOIDCSession()
	sess.Subject = si.user.ID
	sess.PublicSubject = subjectOf(si.user)
	sess.UserID = si.user.ID
	sess.Username = si.user.Email
	sess.ClientID = clientID
	sess.Userinfo = s.cfg.Issuer.String() + "userinfo"
	c := sess.Claims
	c.Subject = sess.PublicSubject
	c.AuthTime = si.session.AuthTime.UTC().Truncate(time.Second)
	c.RequestedAt = requestedAt.UTC().Truncate(time.Second)
	c.AuthenticationMethodsReferences = si.session.AMR
	switch {
	case assurance.PassedPhishingResistant(si.session.AMR):
		c.AuthenticationContextClassReference = assurance.PhishingResistant
	case slices.Contains(si.session.AMR, "mfa"):
		c.AuthenticationContextClassReference = acrMultiFactor
	}
	c.Extra = s.userClaims(si.user, scopes)
	c.Extra["sid"] = sessionID(si.session)
	c.Extra["azp"] = clientID
	return sess
}

// subjectOf is the sub of the user's tokens: their subject, which is their
// id unless they brought another one with them.
func subjectOf(u account.User) string {
	if u.Subject != "" {
		return u.Subject
	}
	return u.ID
}

// userClaims are the user's claims for the granted scopes, shared by the ID
// token and userinfo.
func (s *Server) userClaims(u account.User, scopes []string) map[string]any {
	claims := map[string]any{}
	if slices.Contains(scopes, "profile") {
		name := u.Name
		if name == "" {
			name = u.Email
		}
		claims["name"] = name
		claims["nickname"] = nickname(u.Email)
		claims["picture"] = s.cfg.Issuer.String() + "avatar/" + url.PathEscape(initials(name)) + ".svg"
		claims["updated_at"] = u.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, "email") {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	return claims
}

// sessionID is the OIDC sid: stable for a browser session, and not usable to
// find or hijack it.
func sessionID(sess account.Session) string {
	sum := sha256.Sum256(append([]byte("sid:"), sess.IDHash()...))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func nickname(email string) string {
	if at := strings.LastIndexByte(email, '@'); at > 0 {
		return email[:at]
	}
	return email
}

// initials are up to two letters or digits of a name, for the default avatar.
func initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		for _, r := range word {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "U"
	}
	return string(out)
}

// idTokenSigner signs ID tokens in the shape Auth0 gives them. fosite's ID
// token claims always carry aud as an array and add rat, the time of the
// authorization request, which no specification defines; fosite still needs
// that time in the session to apply prompt and max_age, so it is dropped
// here, when the token is signed, rather than left out of the session. A
// single audience is sent as a string, as Auth0 does (OpenID Connect Core
// §2 allows either), because that is what Auth0 users' code may compare.
type idTokenSigner struct {
	*rotatingSigner
}

func (s idTokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	delete(claims, "rat")
	if aud, ok := claims["aud"].([]string); ok && len(aud) == 1 {
		claims["aud"] = aud[0]
	}
	return s.rotatingSigner.Generate(ctx, claims, header)
}
