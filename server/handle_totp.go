package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// The authenticator-app (TOTP) factor: set up from the account page, offered
// at login before SMS when the user has it (it costs no text message).

func (s *Server) handleTOTPSetupForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		setup, err := s.mfa.BeginTOTP(r.Context(), si.user.ID, sessionID(si.session), si.user.Email, s.cfg.AppName)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v := s.newView(r, "totp-setup", "title.totp_setup")
		v.ReturnTo = s.safeReturnTo(r.URL.Query().Get("return_to"))
		v.TOTPSecret = setup.Secret
		if r.URL.Query().Has("retry") {
			v.Error = "totp_setup.mismatch"
		}
		s.render(w, r, http.StatusOK, "totp-setup", v)
	})
}

// handleTOTPQRCode draws the pending secret's QR code; the image never leaves
// Gatehouse, so no third party sees the secret.
func (s *Server) handleTOTPQRCode() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		png, err := s.mfa.TOTPQRCode(r.Context(), si.user.ID, sessionID(si.session), si.user.Email, s.cfg.AppName, 200)
		if errors.Is(err, mfa.ErrNoPendingTOTP) {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(png)
	})
}

func (s *Server) handleTOTPConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		returnTo := s.safeReturnTo(r.PostForm.Get("return_to"))
		err := s.mfa.ConfirmTOTP(r.Context(), si.user.ID, sessionID(si.session), r.PostForm.Get("code"), decision(r).FirstEnrollment)
		if errors.Is(err, mfa.ErrWrongTOTP) || errors.Is(err, mfa.ErrNoPendingTOTP) || errors.Is(err, mfa.ErrFactorExists) {
			// A wrong code, an expired setup, or another session that
			// enrolled a factor first: the setup page's gate decides again.
			http.Redirect(w, r, s.base+"account/totp?retry=1"+andReturnTo(returnTo), http.StatusSeeOther)
			return
		}
		if err == nil {
			s.announce(r, si.user, account.ChangeAppAdded)
			// The code just proved the app is in the user's hands.
			si, err = s.secondFactorPassed(w, r, si, "otp")
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if returnTo != "" {
			http.Redirect(w, r, s.afterLogin(returnTo), http.StatusSeeOther)
			return
		}
		s.toSecurity(w, r, "app-added")
	})
}

func (s *Server) handleTOTPRemove() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		err := s.mfa.RemoveTOTP(r.Context(), si.user.ID)
		switch {
		case errors.Is(err, mfa.ErrTOTPNotEnrolled):
			s.toSecurity(w, r, "stale")
		case err != nil:
			s.serverError(w, r, err)
		default:
			s.announce(r, si.user, account.ChangeAppRemoved)
			s.toSecurity(w, r, "app-removed")
		}
	})
}

// totpView is the code screen of the authenticator app and of recovery
// codes; it offers what the authority says the user can pass.
func (s *Server) totpView(r *http.Request) view {
	v := s.mfaView(r, "totp", "Enter your app code")
	v.RecoveryAction = "mfa/totp"
	d := decision(r)
	v.HasTOTP = slices.Contains(d.Factors, assurance.KindApp)
	v.HasPhone = slices.Contains(d.Usable, assurance.KindPhone)
	if !v.HasTOTP {
		v.Title = "Enter a recovery code"
	}
	return v
}

func (s *Server) handleTOTPForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "totp", s.totpView(r))
	})
}

// handleTOTP takes an app code (step=code) or a recovery code (step=recovery).
func (s *Server) handleTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		v := s.totpView(r)
		var err error
		var methods []string
		switch step := r.PostForm.Get("step"); {
		case step == "code" && v.HasTOTP:
			err = s.mfa.VerifyTOTP(r.Context(), si.user.ID, r.PostForm.Get("code"))
			methods = []string{"otp"}
		case step == "code":
			v.Error = "totp.none"
			s.render(w, r, http.StatusBadRequest, "totp", v)
			return
		case step == "recovery":
			err = s.mfa.UseRecoveryCode(r.Context(), si.user.ID, r.PostForm.Get("recovery_code"))
		default:
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		if err != nil {
			msg, status := s.mfaMessage(v.loc, err)
			if msg == "" {
				s.serverError(w, r, err)
				return
			}
			s.metrics.challenge("failed")
			v.Error = msg
			s.render(w, r, status, "totp", v)
			return
		}
		if r.PostForm.Get("remember") == "1" {
			if err := s.rememberBrowser(w, r, si); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		s.mfaPassed(w, r, si, v, methods...)
	})
}
