package server

import (
	"cmp"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/password"
)

// resetCookie carries the reset link's token between the reset screen's
// requests, so that the token leaves the address bar (and the history) at
// once. It is scoped to the reset path and lives as long as a link.
const resetCookie = "gatehouse_reset"

func (s *Server) setResetCookie(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: resetCookie, Value: token, Path: s.base + "reset", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) resetToken(r *http.Request) string {
	if c, err := r.Cookie(resetCookie); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) handleForgotForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.newView(r, "forgot", "title.forgot")
		v.Email = r.URL.Query().Get("login_hint")
		s.render(w, r, http.StatusOK, "forgot", v)
	})
}

// handleForgot answers every well-formed address the same way, whether it
// has an account or not: the account service does the same counting for
// both and queues a mail only for a real account.
func (s *Server) handleForgot() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		v := s.newView(r, "forgot", "title.forgot")
		v.Email = strings.TrimSpace(r.PostForm.Get("email"))
		err := s.accounts.RequestPasswordReset(r.Context(), v.Email, meta(r))
		var limit *account.MailLimitError
		switch {
		case err == nil:
			s.wakeMail()
			v.Sent = true
			v.Message = resetLinkValidForText
			s.render(w, r, http.StatusOK, "forgot", v)
		case errors.Is(err, account.ErrInvalidEmail):
			v.Error = msgInvalidEmail
			s.render(w, r, http.StatusBadRequest, "forgot", v)
		case errors.As(err, &limit):
			retryAfter(w, limit.RetryAt)
			v.Error = msgTooManyMails
			s.render(w, r, http.StatusTooManyRequests, "forgot", v)
		default:
			s.serverError(w, r, err)
		}
	})
}

// handleResetForm takes the link (?token=…) into a cookie and redirects to
// itself without it; then it shows the step the reset is at: the second
// factor, or the new password.
func (s *Server) handleResetForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token := r.URL.Query().Get("token"); token != "" {
			s.setResetCookie(w, token, 1800)
			http.Redirect(w, r, s.base+"reset", http.StatusSeeOther)
			return
		}
		rs, user, ok := s.openReset(w, r)
		if !ok {
			return
		}
		s.showReset(w, r, rs, user, s.newView(r, "reset", "title.reset"), http.StatusOK)
	})
}

// openReset finds the browser's reset, or shows why the link no longer works.
func (s *Server) openReset(w http.ResponseWriter, r *http.Request) (account.Reset, account.User, bool) {
	rs, user, err := s.accounts.OpenPasswordReset(r.Context(), s.resetToken(r))
	if err != nil {
		s.resetRefused(w, r, err)
		return rs, user, false
	}
	return rs, user, true
}

func (s *Server) resetRefused(w http.ResponseWriter, r *http.Request, err error) {
	msg, status := linkMessage(err, false)
	if msg == "" {
		s.serverError(w, r, err)
		return
	}
	s.setResetCookie(w, "", -1)
	v := s.newView(r, "forgot", "title.forgot")
	v.Error = msg
	s.render(w, r, status, "forgot", v)
}

// resetDecision asks the authority what the reset must still prove: nothing,
// or a code from the user's factor (the authenticator app before the phone,
// never a phone the admin turned off).
func (s *Server) resetDecision(r *http.Request, rs account.Reset, user account.User) (assurance.Decision, error) {
	return s.authority.Decide(r.Context(), assurance.Request{
		User:    assurance.User{ID: user.ID, Admin: user.Admin, Blocked: user.Blocked},
		Purpose: assurance.Purpose{Action: assurance.ResetPassword, ResetProved: !rs.SecondFactorAt.IsZero()},
	})
}

// resetFactor is the factor the reset screen asks for: the authority offers
// a passkey holder the passkey alone, anyone else their app or phone;
// recovery codes are for a lost factor at login, not for a reset.
func resetFactor(d assurance.Decision) assurance.Kind {
	for _, k := range d.Factors {
		if k != assurance.KindRecovery {
			return k
		}
	}
	return ""
}

// resetBinding ties a passkey ceremony to one reset, as a session's is tied
// to the session.
func resetBinding(rs account.Reset) string { return "reset:" + rs.ID }

// showResetPasskey asks for the user's passkey.
func (s *Server) showResetPasskey(w http.ResponseWriter, r *http.Request, rs account.Reset, v view, status int) {
	id, options, err := s.passkeys.BeginLogin(r.Context(), rs.UserID, resetBinding(rs))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Step = "passkey"
	v.Passkey = &passkeyCeremony{Mode: "get", Ceremony: id, Options: string(options)}
	s.render(w, r, status, "reset", v)
}

// resetPasskey checks the passkey's answer as the reset's second factor.
func (s *Server) resetPasskey(w http.ResponseWriter, r *http.Request, rs account.Reset, user account.User, v view) {
	d, err := s.resetDecision(r, rs, user)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Step == assurance.Done {
		http.Redirect(w, r, s.base+"reset", http.StatusSeeOther)
		return
	}
	if d.Step != assurance.Challenge || resetFactor(d) != assurance.KindPasskey {
		s.renderDecision(w, r, assurance.Decision{Step: d.Step, Lock: d.Lock, Refusal: cmp.Or(d.Refusal, assurance.RefusedNoUsableFactor)}, "")
		return
	}
	a, err := s.passkeys.FinishLogin(r.Context(), user.ID, resetBinding(rs), r.PostForm.Get("ceremony"), []byte(r.PostForm.Get("response")))
	if err == nil {
		err = s.accounts.PassResetSecondFactor(r.Context(), rs, a.Credential.Method(), meta(r))
	}
	if err != nil {
		msg, status := passkeyMessage(err)
		if msg == "" {
			s.serverError(w, r, err)
			return
		}
		v.Error = msg
		v.Screen, v.Title = "reset-challenge", "title.reset_confirm"
		s.showResetPasskey(w, r, rs, v, status)
		return
	}
	http.Redirect(w, r, s.base+"reset", http.StatusSeeOther)
}

// showReset renders the step the reset is at. With a phone, the first visit
// sends a code; later visits show the challenge already on its way.
func (s *Server) showReset(w http.ResponseWriter, r *http.Request, rs account.Reset, user account.User, v view, status int) {
	v.Email = user.Email
	d, err := s.resetDecision(r, rs, user)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.Step == assurance.Done {
		v.Step = "password"
		s.render(w, r, status, "reset", v)
		return
	}
	factor := resetFactor(d)
	if d.Step != assurance.Challenge || factor == "" {
		s.renderDecision(w, r, assurance.Decision{Step: d.Step, Lock: d.Lock, Refusal: cmp.Or(d.Refusal, assurance.RefusedNoUsableFactor)}, "")
		return
	}
	v.Screen, v.Title, v.Step = "reset-challenge", "title.reset_confirm", "code"
	if factor == assurance.KindPasskey {
		s.showResetPasskey(w, r, rs, v, status)
		return
	}
	if factor != assurance.KindPhone {
		s.render(w, r, status, "reset", v) // the authenticator app's code
		return
	}
	ch, err := s.resetChallenge(r, rs)
	if err != nil {
		msg, mstatus := s.mfaMessage(s.localizer(r), err)
		if msg == "" {
			s.serverError(w, r, err)
			return
		}
		v.Error, status = msg, mstatus
	}
	v.MaskedPhone = ch.Masked
	if v.MaskedPhone == "" {
		v.MaskedPhone = "your phone"
	}
	v.ResendIn = s.resendIn(r.Context(), ch)
	s.render(w, r, status, "reset", v)
}

// resetChallenge returns the reset's open SMS challenge, starting one (and
// sending its code) when there is none.
func (s *Server) resetChallenge(r *http.Request, rs account.Reset) (mfa.Challenge, error) {
	if rs.ChallengeID != "" {
		ch, err := s.mfa.Challenge(r.Context(), rs.ChallengeID)
		if err == nil && ch.UsedAt.IsZero() && ch.EndedAt.IsZero() && s.now().Before(ch.ExpiresAt) {
			return ch, nil
		}
		if err != nil && !errors.Is(err, mfa.ErrChallengeNotFound) {
			return mfa.Challenge{}, err
		}
	}
	ch, err := s.mfa.StartChallenge(r.Context(), mfa.StartRequest{
		UserID: rs.UserID, TxID: resetTxID(rs), Purpose: mfa.PurposeChallenge,
		IP: clientIP(r.Context()), AppName: s.cfg.AppName, IssuerHost: s.cfg.Issuer.Hostname(),
	})
	if err != nil {
		return mfa.Challenge{}, err
	}
	s.wakeOutbox()
	if err := s.accounts.SetResetChallenge(r.Context(), rs, ch.ID); err != nil {
		return mfa.Challenge{}, err
	}
	return ch, nil
}

// resetTxID binds a challenge to one reset, as a login's challenge is bound
// to its session: a code sent for a login cannot pass a reset.
func resetTxID(rs account.Reset) string { return "reset:" + rs.ID }

// handleReset takes the second factor's code (step=code), a request for a new
// code (step=resend) or the new password (step=password).
func (s *Server) handleReset() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		rs, user, ok := s.openReset(w, r)
		if !ok {
			return
		}
		v := s.newView(r, "reset", "title.reset")
		switch r.PostForm.Get("step") {
		case "code":
			s.resetCode(w, r, rs, user, v)
		case "resend":
			d, err := s.resetDecision(r, rs, user)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if resetFactor(d) != assurance.KindPhone {
				// Nothing is texted for this reset: show where it stands.
				s.showReset(w, r, rs, user, v, http.StatusOK)
				return
			}
			if _, err := s.mfa.Resend(r.Context(), rs.ChallengeID, clientIP(r.Context())); err != nil {
				if v.Error, _ = s.mfaMessage(s.localizer(r), err); v.Error == "" {
					s.serverError(w, r, err)
					return
				}
			} else {
				s.wakeOutbox()
			}
			if rs, user, ok = s.openReset(w, r); ok {
				s.showReset(w, r, rs, user, v, http.StatusOK)
			}
		case "passkey":
			s.resetPasskey(w, r, rs, user, v)
		case "password":
			s.resetPassword(w, r, user, v)
		default:
			s.renderError(w, r, http.StatusBadRequest)
		}
	})
}

func (s *Server) resetCode(w http.ResponseWriter, r *http.Request, rs account.Reset, user account.User, v view) {
	code := r.PostForm.Get("code")
	d, err := s.resetDecision(r, rs, user)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	factor := resetFactor(d)
	switch {
	case d.Step == assurance.Done:
	case d.Step != assurance.Challenge || factor == "" || factor == assurance.KindPasskey:
		// A passkey holder's reset takes no code.
		s.renderDecision(w, r, assurance.Decision{Step: d.Step, Lock: d.Lock, Refusal: cmp.Or(d.Refusal, assurance.RefusedNoUsableFactor)}, "")
		return
	case factor == assurance.KindPhone:
		var ch mfa.Challenge
		ch, err = s.mfa.Verify(r.Context(), rs.ChallengeID, code)
		if err == nil && (ch.TxID != resetTxID(rs) || ch.UserID != user.ID) {
			err = mfa.ErrChallengeNotFound
		}
	default:
		err = s.mfa.VerifyTOTP(r.Context(), user.ID, code)
	}
	if err == nil && d.Step != assurance.Done {
		err = s.accounts.PassResetSecondFactor(r.Context(), rs, factor.Method(), meta(r))
	}
	if err != nil {
		msg, status := s.mfaMessage(s.localizer(r), err)
		if msg == "" {
			s.serverError(w, r, err)
			return
		}
		v.Error = msg
		if rs, user, ok := s.openReset(w, r); ok {
			s.showReset(w, r, rs, user, v, status)
		}
		return
	}
	http.Redirect(w, r, s.base+"reset", http.StatusSeeOther)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, user account.User, v view) {
	_, err := s.accounts.CompletePasswordReset(r.Context(), s.resetToken(r), r.PostForm.Get("password"), meta(r))
	var weak password.Weakness
	switch {
	case err == nil:
		s.setResetCookie(w, "", -1)
		s.clearSessionCookie(w)
		http.Redirect(w, r, s.base+"login?password_reset=1", http.StatusSeeOther)
	case errors.As(err, &weak):
		v.Error = weak.Key
		v.Step, v.Email = "password", user.Email
		s.render(w, r, http.StatusBadRequest, "reset", v)
	case errors.Is(err, account.ErrSecondFactorRequired):
		v.Error = msgNeedsSecondFactor
		if rs, user, ok := s.openReset(w, r); ok {
			s.showReset(w, r, rs, user, v, http.StatusForbidden)
		}
	default:
		s.resetRefused(w, r, err)
	}
}
