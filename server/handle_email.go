package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
)

const (
	msgEmailVerified      = "Your email address is verified. Thank you."
	msgVerificationSent   = "We sent a confirmation link to your email address."
	msgNoMail             = "This server does not send email, so no confirmation link can be sent. Ask your administrator to confirm your address."
	msgTooManyMails       = "Too many emails have been sent. Try again later."
	msgVerifyLinkInvalid  = "This confirmation link is not valid. Check that you opened all of it, or ask for a new one from your account page."
	msgVerifyLinkExpired  = "This confirmation link has expired. Log in and ask for a new one from your account page."
	msgVerifyLinkUsed     = "This confirmation link was already used."
	msgResetLinkInvalid   = "This password reset link is not valid. Check that you opened all of it, or ask for a new one below."
	msgResetLinkExpired   = "This password reset link has expired. Ask for a new one below."
	msgResetLinkUsed      = "This password reset link was already used. Ask for a new one below if you need to."
	msgPasswordResetDone  = "Your password has been changed and every session was logged out. Log in with your new password."
	msgNeedsSecondFactor  = "Confirm it's you with your second factor before choosing a new password."
	resetLinkValidForText = "30 minutes"
)

// linkMessage words a refused emailed link; verify tells which kind.
func linkMessage(err error, verify bool) (string, int) {
	switch {
	case errors.Is(err, account.ErrLinkExpired) && verify:
		return msgVerifyLinkExpired, http.StatusGone
	case errors.Is(err, account.ErrLinkExpired):
		return msgResetLinkExpired, http.StatusGone
	case errors.Is(err, account.ErrLinkUsed) && verify:
		return msgVerifyLinkUsed, http.StatusGone
	case errors.Is(err, account.ErrLinkUsed):
		return msgResetLinkUsed, http.StatusGone
	case errors.Is(err, account.ErrLinkInvalid) && verify:
		return msgVerifyLinkInvalid, http.StatusBadRequest
	case errors.Is(err, account.ErrLinkInvalid):
		return msgResetLinkInvalid, http.StatusBadRequest
	}
	return "", 0
}

// handleVerifyEmail follows a verification link. Opening it is enough: a
// mail scanner that fetches it only proves what the link proves, that the
// mailbox received it.
func (s *Server) handleVerifyEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.newView(r, "verify-email", "Email address")
		_, err := s.accounts.VerifyEmail(r.Context(), r.URL.Query().Get("token"), meta(r))
		if err != nil {
			msg, status := linkMessage(err, true)
			if msg == "" {
				s.serverError(w, r, err)
				return
			}
			v.Error = msg
			s.render(w, r, status, "verify-email", v)
			return
		}
		v.Message = msgEmailVerified
		s.render(w, r, http.StatusOK, "verify-email", v)
	})
}

// handleResendVerification sends a new link from the account page.
func (s *Server) handleResendVerification() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		if !s.accounts.SendsVerification() {
			v, err := s.accountView(r, si)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			v.Error = msgNoMail
			s.render(w, r, http.StatusConflict, "account", v)
			return
		}
		err := s.accounts.SendVerification(r.Context(), si.user, meta(r))
		v, verr := s.accountView(r, si)
		if verr != nil {
			s.serverError(w, r, verr)
			return
		}
		var limit *account.MailLimitError
		switch {
		case err == nil:
			s.wakeMail()
			v.Notice = msgVerificationSent
			s.render(w, r, http.StatusOK, "account", v)
		case errors.As(err, &limit):
			retryAfter(w, limit.RetryAt)
			v.Error = msgTooManyMails
			s.render(w, r, http.StatusTooManyRequests, "account", v)
		default:
			s.serverError(w, r, err)
		}
	})
}

func (s *Server) wakeMail() {
	if s.wakeMailer != nil {
		s.wakeMailer()
	}
}
