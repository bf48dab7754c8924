package server

import (
	"net/http"
	"slices"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// handleChallengeForm sends a code to the enrolled phone (unless one is on
// its way) and asks for it.
func (s *Server) handleChallengeForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		v := s.challengeView(r)
		ch, open, err := s.openChallenge(r, si, mfa.PurposeChallenge)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !open {
			ch, err = s.mfa.StartChallenge(r.Context(), s.startRequest(r, si, mfa.PurposeChallenge, mfa.Phone{}))
			if err != nil {
				msg, status := s.mfaMessage(err)
				if msg == "" {
					s.serverError(w, r, err)
					return
				}
				v.Error = msg
				s.render(w, r, status, "challenge", v)
				return
			}
			s.wakeOutbox()
			s.setChallengeCookie(w, ch.ID)
		}
		s.renderChallenge(w, r, v, ch, http.StatusOK)
	})
}

func (s *Server) challengeView(r *http.Request) view {
	v := s.mfaView(r, "challenge", "Check your phone")
	v.RecoveryAction = "mfa/challenge"
	return v
}

func (s *Server) renderChallenge(w http.ResponseWriter, r *http.Request, v view, ch mfa.Challenge, status int) {
	v.MaskedPhone = ch.Masked
	v.HasTOTP = slices.Contains(decision(r).Usable, assurance.KindApp)
	v.ResendIn = s.resendIn(r.Context(), ch)
	s.render(w, r, status, "challenge", v)
}

// handleChallenge takes the code (step=code), a recovery code
// (step=recovery) or a request for a new code (step=resend).
func (s *Server) handleChallenge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		v := s.challengeView(r)
		show := func(v view, ch mfa.Challenge, status int) { s.renderChallenge(w, r, v, ch, status) }
		switch r.PostForm.Get("step") {
		case "code":
			s.challengeCode(w, r, si, v, show)
		case "recovery":
			s.challengeRecovery(w, r, si, v)
		case "resend":
			s.resend(w, r, si, v, mfa.PurposeChallenge, "mfa/challenge", show)
		default:
			s.renderError(w, r, http.StatusBadRequest)
		}
	})
}

func (s *Server) challengeCode(w http.ResponseWriter, r *http.Request, si signedIn, v view, show func(view, mfa.Challenge, int)) {
	ch, open, err := s.openChallenge(r, si, mfa.PurposeChallenge)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !open {
		s.clearChallengeCookie(w)
		http.Redirect(w, r, s.base+"mfa/challenge"+returnQuery(v.ReturnTo), http.StatusSeeOther)
		return
	}
	if _, err := s.mfa.Verify(r.Context(), ch.ID, r.PostForm.Get("code")); err != nil {
		s.metrics.challenge("failed")
		s.codeRefused(w, r, v, ch, err, func(v view, status int) { show(v, ch, status) })
		return
	}
	if r.PostForm.Get("remember") == "1" {
		if err := s.rememberBrowser(w, r, si); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.mfaPassed(w, r, si, v, "sms")
}

func (s *Server) challengeRecovery(w http.ResponseWriter, r *http.Request, si signedIn, v view) {
	if err := s.mfa.UseRecoveryCode(r.Context(), si.user.ID, r.PostForm.Get("recovery_code")); err != nil {
		msg, status := s.mfaMessage(err)
		if msg == "" {
			s.serverError(w, r, err)
			return
		}
		v.Error = msg
		ch, open, cerr := s.openChallenge(r, si, mfa.PurposeChallenge)
		if cerr != nil || !open {
			s.render(w, r, status, "challenge", v)
			return
		}
		s.renderChallenge(w, r, v, ch, status)
		return
	}
	s.mfaPassed(w, r, si, v)
}

// mfaPassed records the passed second factor on the (renewed) session and
// continues where the browser was going.
func (s *Server) mfaPassed(w http.ResponseWriter, r *http.Request, si signedIn, v view, methods ...string) {
	if _, err := s.secondFactorPassed(w, r, si, methods...); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.metrics.challenge("passed")
	s.clearChallengeCookie(w)
	http.Redirect(w, r, s.afterLogin(v.ReturnTo), http.StatusSeeOther)
}
