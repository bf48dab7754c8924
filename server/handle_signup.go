package server

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/password"
)

// msgEmailTaken is deliberately vague: it does not confirm that the address
// has an account, only that signing up with it did not work. The signup
// limit's message is the same for every email typed, registered or not, and
// msgSignupLocked is safe for the same reason: failed logins lock an address
// and network pair whether or not the address has an account.
const (
	msgEmailTaken  = "signup.email_taken"
	msgInvalidName = "signup.invalid_name"
	// msgSignupsClosed answers while the signup limits cannot be read: the
	// refusal is the tenant's safety, not the visitor's fault, so it says to
	// come back rather than what is wrong.
	msgSignupsClosed = "signup.closed"
	msgSignupLocked  = "signup.locked"
)

func (s *Server) handleSignupForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.newView(r, "signup", "title.signup")
		v.ReturnTo = s.safeReturnTo(r.URL.Query().Get("return_to"))
		v.Email = r.URL.Query().Get("login_hint")
		s.render(w, r, http.StatusOK, "signup", v)
	})
}

func (s *Server) handleSignup() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		v := s.newView(r, "signup", "title.signup")
		v.Email = strings.TrimSpace(r.PostForm.Get("email"))
		v.Name = strings.TrimSpace(r.PostForm.Get("name"))
		v.ReturnTo = s.safeReturnTo(r.PostForm.Get("return_to"))

		user, err := s.accounts.SignUp(r.Context(), v.Email, v.Name, r.PostForm.Get("password"), meta(r))
		if err != nil {
			s.signupRefused(w, r, v, err)
			return
		}
		s.metrics.signup("success")
		s.wakeMail() // the verification mail
		s.startSession(w, r, user, v.ReturnTo)
	})
}

func (s *Server) signupRefused(w http.ResponseWriter, r *http.Request, v view, err error) {
	var weak password.Weakness
	var locked *account.LockedError
	var throttled *account.ThrottledError
	var limit *account.SignupLimitError
	status := http.StatusBadRequest
	switch {
	case errors.As(err, &weak):
		s.metrics.signup("weak_password")
		v.Error = weak.Key
	case errors.Is(err, account.ErrInvalidEmail):
		s.metrics.signup("invalid_email")
		v.Error = msgInvalidEmail
	case errors.Is(err, account.ErrInvalidName):
		s.metrics.signup("invalid_name")
		v.Error = msgInvalidName
	case errors.Is(err, account.ErrEmailTaken):
		s.metrics.signup("email_taken")
		v.Error = msgEmailTaken
	case errors.As(err, &locked):
		s.metrics.signup("locked")
		retryAfter(w, locked.Until)
		v.Error = msgSignupLocked
		status = http.StatusTooManyRequests
	case errors.As(err, &throttled):
		s.metrics.signup("throttled")
		retryAfter(w, throttled.Until)
		v.Error = msgThrottled
		status = http.StatusTooManyRequests
	case errors.As(err, &limit):
		s.metrics.signup("limited")
		retryAfter(w, limit.RetryAt)
		v.Error = v.T("signup.limit", "Wait", waitText(v.loc, limit.RetryAt.Sub(s.now())))
		status = http.StatusTooManyRequests
	case errors.Is(err, account.ErrSignupsClosed):
		s.metrics.signup("closed")
		w.Header().Set("Retry-After", "60")
		v.Error = msgSignupsClosed
		status = http.StatusServiceUnavailable
	default:
		s.metrics.signup("error")
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "signup", v)
}

// waitText says how long to wait in the unit a person would use: minutes
// within the hour and a half, hours beyond.
func waitText(loc *i18n.Localizer, d time.Duration) string {
	switch m := int(math.Ceil(d.Minutes())); {
	case m <= 1:
		return loc.T("wait.a_minute")
	case m < 90:
		return loc.T("wait.minutes", "Count", m)
	}
	return loc.T("wait.hours", "Count", int(math.Ceil(d.Hours())))
}
