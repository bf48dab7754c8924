package server

import (
	"net/http"
	"slices"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// handleChallengeForm sends a code to the enrolled phone (unless one is on
// its way, or the last one took too many wrong codes) and asks for it.
func (s *Server) handleChallengeForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		v := s.challengeView(r)
		show := func(v view, ch mfa.Challenge, status int) { s.renderChallenge(w, r, v, ch, status) }
		ch, open, err := s.openChallenge(r, si, mfa.PurposeChallenge)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if endedChallenge(ch, si, mfa.PurposeChallenge) {
			s.codeRefused(w, r, v, ch, mfa.ErrChallengeEnded, func(v view, _ int) { show(v, ch, http.StatusOK) })
			return
		}
		if !open {
			ch, err = s.mfa.StartChallenge(r.Context(), s.startRequest(r, si, mfa.PurposeChallenge, mfa.Phone{}))
			if err != nil {
				v.NoCode = true
				s.codeRefused(w, r, v, ch, err, func(v view, status int) { show(v, ch, status) })
				return
			}
			s.wakeOutbox()
			s.setChallengeCookie(w, ch.ID)
		}
		show(v, ch, http.StatusOK)
	})
}

func (s *Server) challengeView(r *http.Request) view {
	v := s.mfaView(r, "challenge", "Check your phone")
	v.RecoveryAction = "mfa/challenge"
	return v
}

// renderChallenge shows the code screen for ch, and the other factors the
// user holds; with no code sent it names the number codes go to.
func (s *Server) renderChallenge(w http.ResponseWriter, r *http.Request, v view, ch mfa.Challenge, status int) {
	v.MaskedPhone = ch.Masked
	if v.MaskedPhone == "" {
		f, ok, err := s.mfa.Factor(r.Context(), mustSession(r).user.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if ok {
			v.MaskedPhone = f.Masked
		}
	}
	usable := decision(r).Usable
	v.HasTOTP = slices.Contains(usable, assurance.KindApp)
	v.HasPasskey = s.passkeys != nil && slices.Contains(usable, assurance.KindPasskey)
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
	if endedChallenge(ch, si, mfa.PurposeChallenge) {
		// A code typed after the last wrong one is refused as that one was:
		// only the person may ask for another text.
		s.codeRefused(w, r, v, ch, mfa.ErrChallengeEnded, func(v view, status int) { show(v, ch, status) })
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
		ch, open, cerr := s.openChallenge(r, si, mfa.PurposeChallenge)
		if cerr != nil {
			s.serverError(w, r, cerr)
			return
		}
		v.NoCode = !open
		s.codeRefused(w, r, v, ch, err, func(v view, status int) { s.renderChallenge(w, r, v, ch, status) })
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
