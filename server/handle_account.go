package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/password"
)

const (
	msgPasswordChanged = "Your password has been changed. Your other sessions were logged out."
	msgWrongCurrent    = "Your current password is not correct."
)

func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.base+"account", http.StatusSeeOther)
	})
}

func (s *Server) accountView(r *http.Request, u account.User) view {
	v := s.newView(r, "account", "Your account")
	v.User = userView(u)
	v.MemberSince = u.CreatedAt.Format("January 2, 2006")
	return v
}

func (s *Server) handleAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "account", s.accountView(r, mustSession(r).user))
	})
}

func (s *Server) handleChangePassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		v := s.accountView(r, si.user)
		err := s.accounts.ChangePassword(r.Context(), si.session,
			r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), meta(r))
		var weak password.Weakness
		var locked *account.LockedError
		var throttled *account.ThrottledError
		status := http.StatusBadRequest
		if err == nil && s.mfa != nil {
			// Whoever knew the old password may have had a remembered browser.
			_, err = s.mfa.ForgetAllBrowsers(r.Context(), si.user.ID, "password_changed")
		}
		switch {
		case err == nil:
			v.Notice = msgPasswordChanged
			status = http.StatusOK
		case errors.Is(err, account.ErrInvalidCredentials):
			v.Error = msgWrongCurrent
		case errors.As(err, &weak):
			v.Error = weak.Message
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
