package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// The security page lists how the account signs in (phone, app, recovery
// codes), where it is signed in and which browsers skip the second factor.
// Every change on it passes the authority's ChangeFactors gate in routes.go;
// the handlers here only carry the change out and come back to the page with
// a notice named in the query, never with text from it.

const securityPath = "account/security"

var securityNotices = map[string]string{
	"phone-removed":      "security.notice.phone_removed",
	"app-added":          "security.notice.app_added",
	"app-removed":        "security.notice.app_removed",
	"session-ended":      "security.notice.session_ended",
	"sessions-ended":     "security.notice.sessions_ended",
	"browser-forgotten":  "security.notice.browser_forgotten",
	"browsers-forgotten": "security.notice.browsers_forgotten",
	"no-factor":          "security.notice.no_factor",
	"passkey-added":      "security.notice.passkey_added",
	"passkey-renamed":    "security.notice.passkey_renamed",
	"passkey-removed":    "security.notice.passkey_removed",
	"passkey-bad-name":   "security.notice.passkey_bad_name",
	"passkey-too-many":   "security.notice.passkey_too_many",
	// A form from a page that was out of date: the session, browser or
	// phone it names is gone, or was never this user's.
	"stale": "security.notice.stale",
}

// toSecurity sends the browser back to the security page with a notice.
func (s *Server) toSecurity(w http.ResponseWriter, r *http.Request, notice string) {
	http.Redirect(w, r, s.base+securityPath+"?done="+notice, http.StatusSeeOther)
}

// securityView is the security page of the signed-in user.
func (s *Server) securityView(r *http.Request, si signedIn) (view, error) {
	ctx := r.Context()
	v := s.newView(r, "security", "title.security")
	v.User = userView(si.user)
	v.Notice = securityNotices[r.URL.Query().Get("done")]
	now := s.now()
	sessions, err := s.accounts.Sessions(ctx, si.user.ID)
	if err != nil {
		return v, err
	}
	current := sessionID(si.session)
	for _, sess := range sessions {
		id := sessionID(sess)
		v.Sessions = append(v.Sessions, deviceView{ID: id, Device: describeUserAgent(sess.UserAgent),
			Place: s.place(sess.IP), LastSeen: agoIn(v.loc, now, sess.LastSeenAt), Current: id == current})
	}
	if s.mfa == nil {
		return v, nil
	}
	tenant, err := s.tenant(ctx)
	if err != nil {
		return v, err
	}
	v.PhoneAvailable = tenant.PhoneEnabled()
	v.TOTPAvailable = s.mfa.TOTPAvailable()
	sum, err := s.mfa.Summarize(ctx, si.user.ID)
	if err != nil {
		return v, err
	}
	v.MaskedPhone, v.HasTOTP, v.RecoveryCodesLeft = sum.PhoneMasked, sum.TOTP, sum.RecoveryCodesLeft
	if f, ok, err := s.mfa.Factor(ctx, si.user.ID); err != nil {
		return v, err
	} else if ok {
		v.PhoneID = f.ID
	}
	v.PasskeysAvailable = s.passkeys != nil && tenant.PasskeysEnabled()
	if v.Passkeys, err = s.userPasskeys(r, si.user.ID); err != nil {
		return v, err
	}
	browsers, err := s.mfa.TrustedBrowsers(ctx, si.user.ID)
	if err != nil {
		return v, err
	}
	for _, b := range browsers {
		v.Browsers = append(v.Browsers, deviceView{ID: b.ID, Device: describeUserAgent(b.UserAgent),
			Place: s.place(b.CreatedIP), Until: longDate(v.loc, b.ExpiresAt)})
	}
	return v, nil
}

func (s *Server) handleSecurity() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.securityView(r, mustSession(r))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "security", v)
	})
}

// handleRemovePhone removes the phone the form names, if it is still the
// user's.
func (s *Server) handleRemovePhone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		err := s.mfa.RemovePhone(r.Context(), si.user.ID, r.PostForm.Get("id"))
		switch {
		case errors.Is(err, mfa.ErrNotEnrolled):
			s.toSecurity(w, r, "stale")
		case err != nil:
			s.serverError(w, r, err)
		default:
			s.announce(r, si.user, account.ChangePhoneRemoved)
			s.toSecurity(w, r, "phone-removed")
		}
	})
}

// handleRegenerateRecoveryCodes replaces the recovery codes and shows the
// new ones, once, on the screen enrollment shows them on.
func (s *Server) handleRegenerateRecoveryCodes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		codes, err := s.mfa.RegenerateRecoveryCodes(r.Context(), si.user.ID)
		if errors.Is(err, mfa.ErrNoSecondFactor) {
			s.toSecurity(w, r, "no-factor")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.announce(r, si.user, account.ChangeRecoveryRegenerate)
		v := s.newView(r, "recovery", "title.recovery")
		v.ReturnTo = s.base + securityPath
		s.renderRecovery(w, r, si, v, codes, http.StatusOK)
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
			if sid == "" || sessionID(sess) != sid || sid == sessionID(si.session) {
				continue
			}
			err := s.accounts.EndUserSession(r.Context(), si.user.ID, sess.IDHash(), meta(r))
			if errors.Is(err, account.ErrNoSession) {
				break
			}
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			s.toSecurity(w, r, "session-ended")
			return
		}
		s.toSecurity(w, r, "stale")
	})
}

// handleEndOtherSessions logs out every session of the user but this one.
func (s *Server) handleEndOtherSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.accounts.EndOtherSessions(r.Context(), mustSession(r).session, meta(r)); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.toSecurity(w, r, "sessions-ended")
	})
}

// handleForgetBrowser stops trusting one remembered browser.
func (s *Server) handleForgetBrowser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		err := s.mfa.ForgetBrowser(r.Context(), mustSession(r).user.ID, r.PostForm.Get("id"))
		switch {
		case errors.Is(err, mfa.ErrNotTrusted):
			s.toSecurity(w, r, "stale")
		case err != nil:
			s.serverError(w, r, err)
		default:
			s.toSecurity(w, r, "browser-forgotten")
		}
	})
}

// handleForgetAllBrowsers stops trusting every remembered browser of the user.
func (s *Server) handleForgetAllBrowsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.mfa.ForgetAllBrowsers(r.Context(), mustSession(r).user.ID, "user"); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.toSecurity(w, r, "browsers-forgotten")
	})
}

// announce mails the user about a change already made. The change stands
// whether or not the mail could be queued, so a failure is only logged.
func (s *Server) announce(r *http.Request, u account.User, change account.SecurityChange) {
	if err := s.accounts.AnnounceSecurityChange(r.Context(), u, change, meta(r)); err != nil {
		s.logger(r.Context()).Warn("security change not announced", "change", change, "err", err)
		return
	}
	if s.wakeMailer != nil {
		s.wakeMailer()
	}
}
