package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
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

// accountView is the account page for the signed-in user: profile, the
// sessions they can end and the browsers they can forget.
func (s *Server) accountView(r *http.Request, si signedIn) (view, error) {
	ctx := r.Context()
	v := s.newView(r, "account", "Your account")
	v.User = userView(si.user)
	v.MemberSince = si.user.CreatedAt.Format("January 2, 2006")
	now := s.now()
	sessions, err := s.accounts.Sessions(ctx, si.user.ID)
	if err != nil {
		return v, err
	}
	current := sessionID(si.session)
	for _, sess := range sessions {
		id := sessionID(sess)
		v.Sessions = append(v.Sessions, deviceView{ID: id, Device: describeUserAgent(sess.UserAgent),
			IP: sess.IP.String(), LastSeen: ago(now, sess.LastSeenAt), Current: id == current})
	}
	if s.mfa != nil {
		v.TOTPAvailable = true
		if v.HasTOTP, err = s.mfa.HasTOTP(ctx, si.user.ID); err != nil {
			return v, err
		}
		browsers, err := s.mfa.TrustedBrowsers(ctx, si.user.ID)
		if err != nil {
			return v, err
		}
		for _, b := range browsers {
			v.Browsers = append(v.Browsers, deviceView{ID: b.ID, Device: describeUserAgent(b.UserAgent),
				IP: b.CreatedIP.String(), Until: b.ExpiresAt.Format("January 2, 2006")})
		}
	}
	return v, nil
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

// handleEndSession logs out another of the user's sessions.
func (s *Server) handleEndSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		sid := r.PostForm.Get("sid")
		sessions, err := s.accounts.Sessions(r.Context(), si.user.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, sess := range sessions {
			if sid != "" && sessionID(sess) == sid && sid != sessionID(si.session) {
				if err := s.accounts.EndUserSession(r.Context(), si.user.ID, sess.IDHash(), meta(r)); err != nil && !errors.Is(err, account.ErrNoSession) {
					s.serverError(w, r, err)
					return
				}
			}
		}
		http.Redirect(w, r, s.base+"account", http.StatusSeeOther)
	})
}

// handleForgetBrowser stops trusting one remembered browser.
func (s *Server) handleForgetBrowser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		err := s.mfa.ForgetBrowser(r.Context(), mustSession(r).user.ID, r.PostForm.Get("id"))
		if err != nil && !errors.Is(err, mfa.ErrNotTrusted) {
			s.serverError(w, r, err)
			return
		}
		http.Redirect(w, r, s.base+"account", http.StatusSeeOther)
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
		if err == nil && s.mfa != nil {
			// Whoever knew the old password may have had a remembered browser.
			_, err = s.mfa.ForgetAllBrowsers(r.Context(), si.user.ID, "password_changed")
		}
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
