package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
)

const (
	msgEmailVerified      = "email.verified"
	msgVerificationSent   = "email.verification_sent"
	msgNoMail             = "email.no_mail"
	msgTooManyMails       = "email.too_many"
	msgVerifyLinkInvalid  = "email.verify_invalid"
	msgVerifyLinkExpired  = "email.verify_expired"
	msgVerifyLinkUsed     = "email.verify_used"
	msgResetLinkInvalid   = "reset.link_invalid"
	msgResetLinkExpired   = "reset.link_expired"
	msgResetLinkUsed      = "reset.link_used"
	msgPasswordResetDone  = "reset.done"
	msgNeedsSecondFactor  = "reset.needs_second_factor"
	resetLinkValidForText = "reset.valid_for"
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
		v := s.newView(r, "verify-email", "title.verify_email")
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
