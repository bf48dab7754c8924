package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/password"
)

const (
	msgPasswordChanged = "account.password_changed"
	msgWrongCurrent    = "account.wrong_current"
)

func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.base+"account", http.StatusSeeOther)
	})
}

// accountView is the account page for the signed-in user: profile and
// password; how they sign in is on the security page.
func (s *Server) accountView(r *http.Request, si signedIn) (view, error) {
	v := s.newView(r, "account", "title.account")
	v.User = userView(si.user)
	v.MemberSince = longDate(v.loc, si.user.CreatedAt)
	v.SendsVerification = s.accounts.SendsVerification()
	sent, err := s.accounts.VerificationSent(r.Context(), si.user)
	v.VerificationSent = sent
	if err != nil {
		return v, err
	}
	chosen, err := s.store.UserLanguage(r.Context(), si.user.ID)
	v.Languages = s.languageOptions(r, chosen)
	return v, err
}

func (s *Server) handleAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.accountView(r, mustSession(r))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "account", v)
	})
}

func (s *Server) handleChangePassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		err := s.accounts.ChangePassword(r.Context(), si.session,
			r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), meta(r))
		// The page is built after the change, so it lists what is left.
		v, verr := s.accountView(r, si)
		if verr != nil {
			s.serverError(w, r, verr)
			return
		}
		var weak password.Weakness
		var locked *account.LockedError
		var throttled *account.ThrottledError
		status := http.StatusBadRequest
		switch {
		case err == nil:
			v.Notice = msgPasswordChanged
			status = http.StatusOK
		case errors.Is(err, account.ErrInvalidCredentials):
			v.Error = msgWrongCurrent
		case errors.As(err, &weak):
			v.Error = weak.Key
		case errors.As(err, &locked), errors.As(err, &throttled):
			v.Error = msgThrottled
			status = http.StatusTooManyRequests
		default:
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, status, "account", v)
	})
}
