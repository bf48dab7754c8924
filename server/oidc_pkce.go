package server

import (
	"regexp"

	"github.com/ory/fosite"
)

// s256Challenge is what code_challenge_method=S256 yields: the unpadded
// base64url of a SHA-256 digest, 43 characters (RFC 7636 §4.2).
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkPKCE applies the PKCE rules to an authorization request before any
// screen is shown. fosite applies the same rules, but only when it issues the
// code, which is after the user has typed a password for a request that was
// never going to succeed. Public clients (spa, native) must send an S256
// challenge; a confidential web application may go without PKCE, but when it
// sends PKCE parameters they must be S256 too: plain is never accepted.
func checkPKCE(ar fosite.AuthorizeRequester) error {
	if !ar.GetResponseTypes().ExactOne("code") {
		return nil
	}
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && method == "":
		if ar.GetClient().IsPublic() {
			return fosite.ErrInvalidRequest.WithHint("This client must include a code_challenge (PKCE with S256) in the authorization request.")
		}
		return nil
	case challenge == "":
		return fosite.ErrInvalidRequest.WithHint("The code_challenge_method is set but the code_challenge is missing.")
	case method != "S256":
		return fosite.ErrInvalidRequest.WithHint("Clients must use code_challenge_method=S256; plain and unknown methods are not allowed.")
	case !s256Challenge.MatchString(challenge):
		return fosite.ErrInvalidRequest.WithHint("The code_challenge must be the base64url-encoded SHA-256 of the code verifier: 43 characters.")
	}
	return nil
}
