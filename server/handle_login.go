package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store"
)

// Messages a person reads on the login page. One message covers an unknown
// email and a wrong password, so the page never tells whether an account exists.
const (
	msgBadCredentials = "login.bad_credentials"
	msgLocked         = "login.locked"
	msgThrottled      = "login.throttled"
	msgBlocked        = "login.blocked"
	msgInvalidEmail   = "form.invalid_email"
	msgNoPassword     = "form.no_password"
	msgLoggedOut      = "login.logged_out"
)

func (s *Server) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		returnTo := s.safeReturnTo(r.URL.Query().Get("return_to"))
		// An application asking for a fresh login (prompt=login, max_age) must
		// see the form even when a session exists.
		fresh := r.URL.Query().Get("prompt") == "login"
		if _, ok, err := s.currentSession(r); err != nil {
			s.serverError(w, r, err)
			return
		} else if ok && !fresh {
			http.Redirect(w, r, s.afterLogin(returnTo), http.StatusSeeOther)
			return
		}
		v := s.loginView(r)
		v.ReturnTo = returnTo
		v.Email = r.URL.Query().Get("login_hint")
		if r.URL.Query().Has("logged_out") {
			v.Notice = msgLoggedOut
		}
		if r.URL.Query().Has("password_reset") {
			v.Notice = msgPasswordResetDone
		}
		s.render(w, r, http.StatusOK, "login", v)
	})
}

func (s *Server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		email := strings.TrimSpace(r.PostForm.Get("email"))
		plain := r.PostForm.Get("password")
		v := s.loginView(r)
		v.Email = email
		v.ReturnTo = s.safeReturnTo(r.PostForm.Get("return_to"))

		if _, err := account.NormalizeEmail(email); err != nil {
			v.Error = msgInvalidEmail
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		if plain == "" {
			v.Error = msgNoPassword
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		// The login's writes after the password check (the login on the
		// user, its audit row, the session) go as one batch before the
		// answer; the attempt's counting is not deferred. A path that
		// answers without sending them (an error) sends them after.
		r = r.WithContext(store.WithDeferredWrites(r.Context()))
		defer func() {
			if err := s.store.FlushWrites(r.Context()); err != nil {
				s.log.ErrorContext(r.Context(), "login writes after an error", "err", err)
			}
		}()
		user, err := s.accounts.Login(r.Context(), email, plain, meta(r))
		if err != nil {
			if ferr := s.store.FlushWrites(r.Context()); ferr != nil {
				s.serverError(w, r, errors.Join(err, ferr))
				return
			}
			s.loginRefused(w, r, v, err)
			return
		}
		s.metrics.login("success")
		s.startSession(w, r, user, v.ReturnTo)
	})
}

// loginRefused shows the login form again with the message for err.
func (s *Server) loginRefused(w http.ResponseWriter, r *http.Request, v view, err error) {
	var locked *account.LockedError
	var throttled *account.ThrottledError
	switch {
	case errors.Is(err, account.ErrInvalidCredentials):
		s.metrics.login("invalid_credentials")
		v.Error = msgBadCredentials
		s.render(w, r, http.StatusUnauthorized, "login", v)
	case errors.As(err, &locked):
		s.metrics.login("locked")
		retryAfter(w, locked.Until)
		v.Error = msgLocked
		s.render(w, r, http.StatusTooManyRequests, "login", v)
	case errors.As(err, &throttled):
		s.metrics.login("throttled")
		retryAfter(w, throttled.Until)
		v.Error = msgThrottled
		s.render(w, r, http.StatusTooManyRequests, "login", v)
	case errors.Is(err, account.ErrBlocked):
		s.metrics.login("blocked")
		v.Error = msgBlocked
		s.render(w, r, http.StatusForbidden, "login", v)
	default:
		s.metrics.login("error")
		s.serverError(w, r, err)
	}
}

// startSession replaces whatever session the browser had (so a planted cookie
// cannot be carried into the new login) and sends it on.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, user account.User, returnTo string) {
	s.startSessionWith(w, r, user, []string{"pwd"}, returnTo)
}

// startSessionWith is startSession for a login that proved the methods amr.
func (s *Server) startSessionWith(w http.ResponseWriter, r *http.Request, user account.User, amr []string, returnTo string) {
	m := meta(r)
	if old := s.sessionToken(r); old != "" {
		if err := s.accounts.EndSession(r.Context(), old, m); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	token, sess, err := s.accounts.StartSession(r.Context(), user, amr, m)
	if err == nil {
		err = s.store.FlushWrites(r.Context())
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.setSessionCookie(w, token, sess.ExpiresAt)
	s.ensureDeviceID(w, r)
	s.rememberUserLanguage(w, user)
	if slices.Contains(amr, "mfa") {
		// Two factors at once: the login counts in the device history as a
		// passed second factor does.
		if err := s.notePassed(r, signedIn{user: user, session: sess}); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	http.Redirect(w, r, s.afterLogin(returnTo), http.StatusSeeOther)
}

// loginView is the login page, offering passkeys where the admin allows them.
func (s *Server) loginView(r *http.Request) view {
	v := s.newView(r, "login", "title.login")
	if s.passkeysOn(r) {
		v.Passkey = &passkeyCeremony{Mode: "discoverable", OptionsURL: s.base + "login/passkey/options"}
	}
	return v
}
