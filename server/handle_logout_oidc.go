package server

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse-id/gatehouse/clients"
)

// handleAuth0Logout is Auth0's /v2/logout: it ends the session and returns to
// returnTo when the application (client_id) — or, without client_id, any
// application — lists it among its allowed logout URLs.
func (s *Server) handleAuth0Logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		returnTo, clientID := q.Get("returnTo"), q.Get("client_id")
		target, err := s.logoutTarget(r, clientID, returnTo)
		if err != nil {
			s.logoutRefused(w, r, err)
			return
		}
		if !s.endBrowserSession(w, r) {
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// handleOIDCLogout is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0): id_token_hint names the client (it may be expired), and
// post_logout_redirect_uri must be one of its logout URLs; state is passed back.
func (s *Server) handleOIDCLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		clientID := q.Get("client_id")
		if hint := q.Get("id_token_hint"); hint != "" {
			aud, err := s.hintAudience(r, hint)
			if err != nil || (clientID != "" && clientID != aud) {
				s.logoutRefused(w, r, errBadHint)
				return
			}
			clientID = aud
		}
		redirect := q.Get("post_logout_redirect_uri")
		if redirect != "" && clientID == "" {
			s.logoutRefused(w, r, errNoClient)
			return
		}
		target, err := s.logoutTarget(r, clientID, redirect)
		if err != nil {
			s.logoutRefused(w, r, err)
			return
		}
		if state := q.Get("state"); state != "" && redirect != "" {
			target = addQuery(target, "state", state)
		}
		if !s.endBrowserSession(w, r) {
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

var (
	errReturnToNotAllowed = errors.New("the return address is not an allowed logout URL of the application")
	errUnknownClient      = errors.New("the application is unknown")
	errBadHint            = errors.New("the id_token_hint is not a token this server issued for that application")
	errNoClient           = errors.New("a post_logout_redirect_uri needs an id_token_hint or client_id")
)

// logoutTarget checks where a logout may send the browser; with no address
// asked for, it is the application's first logout URL, or the login page.
func (s *Server) logoutTarget(r *http.Request, clientID, returnTo string) (string, error) {
	ctx := r.Context()
	loggedOut := s.base + "login?logged_out=1"
	if clientID != "" {
		c, err := s.clients.ClientByID(ctx, clientID)
		if errors.Is(err, clients.ErrNotFound) {
			return "", errUnknownClient
		}
		if err != nil {
			return "", err
		}
		switch {
		case returnTo == "" && len(c.LogoutURLs) > 0:
			return c.LogoutURLs[0], nil
		case returnTo == "":
			return loggedOut, nil
		case c.AllowsLogoutURL(returnTo):
			return returnTo, nil
		}
		return "", errReturnToNotAllowed
	}
	if returnTo == "" {
		return loggedOut, nil
	}
	all, err := s.clients.ListClients(ctx)
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(all, func(c clients.Client) bool { return c.AllowsLogoutURL(returnTo) }) {
		return returnTo, nil
	}
	return "", errReturnToNotAllowed
}

// hintAudience verifies an ID token this server signed, ignoring expiry, and
// returns the client it was issued to.
func (s *Server) hintAudience(r *http.Request, hint string) (string, error) {
	tok, err := s.signer.Decode(r.Context(), hint)
	var verr *jwt.ValidationError
	if err != nil && !(errors.As(err, &verr) && verr.Errors == jwt.ValidationErrorExpired) {
		return "", err
	}
	if tok == nil {
		return "", errBadHint
	}
	claims := tok.Claims
	if iss, _ := claims["iss"].(string); iss != s.cfg.Issuer.String() {
		return "", errBadHint
	}
	switch aud := claims["aud"].(type) {
	case string:
		return aud, nil
	case []any:
		if len(aud) == 1 {
			if a, ok := aud[0].(string); ok {
				return a, nil
			}
		}
	}
	return "", errBadHint
}

// logoutRefusals are what a person reads when a logout link is refused;
// the errors' own text is for logs.
var logoutRefusals = map[error]string{
	errReturnToNotAllowed: "logout.refused.return_to",
	errUnknownClient:      "logout.refused.unknown_client",
	errBadHint:            "logout.refused.bad_hint",
	errNoClient:           "logout.refused.no_client",
}

func (s *Server) logoutRefused(w http.ResponseWriter, r *http.Request, err error) {
	key, ok := logoutRefusals[err]
	if !ok {
		s.serverError(w, r, err)
		return
	}
	loc := s.localizer(r)
	s.renderMessage(w, r, http.StatusBadRequest, "logout.refused.title", loc.T(key)+" "+loc.T("logout.refused.not_logged_out"))
}

// endBrowserSession ends the Gatehouse session and clears its cookie; it
// reports whether the handler may go on.
func (s *Server) endBrowserSession(w http.ResponseWriter, r *http.Request) bool {
	if token := s.sessionToken(r); token != "" {
		if err := s.accounts.EndSession(r.Context(), token, meta(r)); err != nil {
			s.serverError(w, r, err)
			return false
		}
	}
	s.clearSessionCookie(w)
	return true
}

func addQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
