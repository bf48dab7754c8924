package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// handleEnrollForm shows the enrollment step the browser is at: the number,
// or the code sent to it.
func (s *Server) handleEnrollForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si := mustSession(r)
		ch, open, err := s.openChallenge(r, si, mfa.PurposeEnroll)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !open && slices.Contains(decision(r).Usable, assurance.KindPhone) && !r.URL.Query().Has("change") {
			// Already enrolled, and the authority let this session past:
			// nothing to do here unless the user asked to change the number
			// or a new number's code is on its way.
			http.Redirect(w, r, s.afterLogin(r.URL.Query().Get("return_to")), http.StatusSeeOther)
			return
		}
		v := s.mfaView(r, "enroll", "Secure your account")
		if open && !r.URL.Query().Has("change") {
			s.renderEnrollCode(w, r, v, ch, http.StatusOK)
			return
		}
		s.renderEnrollPhone(w, r, v, "", http.StatusOK)
	})
}

func (s *Server) renderEnrollPhone(w http.ResponseWriter, r *http.Request, v view, region string, status int) {
	v.Step = "phone"
	all, ok := s.countries[v.loc.Lang()]
	if !ok {
		all = s.countries[i18n.English.String()]
	}
	v.Countries = countriesFor(all, region, s.requestCountry(r), r.Header.Get("Accept-Language"))
	v.PhoneExample = phoneExample(v.Countries)
	if !r.URL.Query().Has("change") {
		// Other ways to set up a first factor, beside the phone.
		v.PasskeysAvailable = s.passkeysOn(r)
		v.TOTPAvailable = s.mfa.TOTPAvailable()
	}
	s.render(w, r, status, "enroll", v)
}

func (s *Server) renderEnrollCode(w http.ResponseWriter, r *http.Request, v view, ch mfa.Challenge, status int) {
	v.Step = "code"
	v.MaskedPhone = ch.Masked
	v.ResendIn = s.resendIn(r.Context(), ch)
	s.render(w, r, status, "enroll", v)
}

// handleEnroll takes the number (step=phone), the code (step=code) or a
// request for a new code (step=resend). The number counts only once its
// code is verified; then recovery codes are shown, once.
func (s *Server) handleEnroll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		si := mustSession(r)
		v := s.mfaView(r, "enroll", "Secure your account")
		switch r.PostForm.Get("step") {
		case "phone":
			s.enrollPhone(w, r, si, v)
		case "code":
			s.enrollCode(w, r, si, v)
		case "resend":
			s.resend(w, r, si, v, mfa.PurposeEnroll, "mfa/enroll", func(v view, ch mfa.Challenge, status int) {
				s.renderEnrollCode(w, r, v, ch, status)
			})
		default:
			s.renderError(w, r, http.StatusBadRequest)
		}
	})
}

func (s *Server) enrollPhone(w http.ResponseWriter, r *http.Request, si signedIn, v view) {
	region := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("country")))
	v.Phone = r.PostForm.Get("phone")
	tenant, err := s.tenant(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	phone, err := mfa.ParsePhone(v.Phone, region, tenant.AllowedRegions())
	if err == nil {
		var ch mfa.Challenge
		ch, err = s.mfa.StartChallenge(r.Context(), s.startRequest(r, si, mfa.PurposeEnroll, phone))
		if err == nil {
			s.wakeOutbox()
			s.setChallengeCookie(w, ch.ID)
			http.Redirect(w, r, s.base+"mfa/enroll"+returnQuery(v.ReturnTo), http.StatusSeeOther)
			return
		}
	}
	msg, status := s.mfaMessage(v.loc, err)
	if msg == "" {
		s.serverError(w, r, err)
		return
	}
	v.Error = msg
	s.renderEnrollPhone(w, r, v, region, status)
}

func (s *Server) enrollCode(w http.ResponseWriter, r *http.Request, si signedIn, v view) {
	ctx := r.Context()
	ch, open, err := s.openChallenge(r, si, mfa.PurposeEnroll)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if endedChallenge(ch, si, mfa.PurposeEnroll) {
		s.codeRefused(w, r, v, ch, mfa.ErrChallengeEnded, func(v view, status int) { s.renderEnrollCode(w, r, v, ch, status) })
		return
	}
	if !open {
		v.Error = "enroll.code_expired"
		s.renderEnrollPhone(w, r, v, "", http.StatusBadRequest)
		return
	}
	// A refused code leaves the challenge as it was: the page still names
	// the number and counts down to the next resend.
	passed, err := s.mfa.Verify(ctx, ch.ID, r.PostForm.Get("code"))
	if err != nil {
		s.codeRefused(w, r, v, ch, err, func(v view, status int) { s.renderEnrollCode(w, r, v, ch, status) })
		return
	}
	phone, err := s.mfa.ChallengePhone(passed)
	if err == nil {
		_, err = s.mfa.EnrollVerified(ctx, si.user.ID, phone, decision(r).FirstEnrollment)
	}
	if err == nil {
		change := account.ChangePhoneAdded
		if slices.Contains(decision(r).Usable, assurance.KindPhone) {
			change = account.ChangePhoneChanged
		}
		s.announce(r, si.user, change)
	}
	if errors.Is(err, mfa.ErrFactorExists) {
		// Another session enrolled a factor first: changing it now needs
		// that factor, which the enrollment page's gate will ask for.
		s.clearChallengeCookie(w)
		http.Redirect(w, r, s.base+"mfa/enroll?change=1"+andReturnTo(v.ReturnTo), http.StatusSeeOther)
		return
	}
	var codes []string
	if err == nil {
		codes, err = s.mfa.IssueRecoveryCodes(ctx, si.user.ID)
	}
	if err == nil {
		si, err = s.secondFactorPassed(w, r, si, "sms")
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.clearChallengeCookie(w)
	s.renderRecovery(w, r, si, s.mfaView(r, "recovery", "Save your recovery codes"), codes, http.StatusOK)
}

// codeRefused shows a code screen again with the reason, and with only
// what still works after it: no code field once the challenge can take no
// code, no Resend button while a limit or lock refuses sending.
func (s *Server) codeRefused(w http.ResponseWriter, r *http.Request, v view, ch mfa.Challenge, err error, show func(view, int)) {
	msg, status := s.mfaMessage(v.loc, err)
	if msg == "" {
		s.serverError(w, r, err)
		return
	}
	var wrong *mfa.WrongCodeError
	if errors.As(err, &wrong) {
		v.AttemptsLeft = wrong.Remaining
	}
	var limit *mfa.LimitError
	var locked *mfa.LockedError
	stop := errors.As(err, &locked) || errors.Is(err, mfa.ErrAccountLocked) || errors.Is(err, mfa.ErrPhoneOff)
	v.NoCode = v.NoCode || stop || errors.Is(err, mfa.ErrChallengeEnded) || errors.Is(err, mfa.ErrCodeExpired) || errors.Is(err, mfa.ErrCodeUsed)
	v.SendBlocked = stop || errors.As(err, &limit)
	switch {
	case errors.As(err, &limit):
		retryAfter(w, limit.RetryAt)
	case locked != nil:
		retryAfter(w, locked.Until)
	}
	v.Error = msg
	show(v, status)
}

func (s *Server) startRequest(r *http.Request, si signedIn, purpose string, phone mfa.Phone) mfa.StartRequest {
	return mfa.StartRequest{
		UserID: si.user.ID, TxID: sessionID(si.session), Purpose: purpose, Phone: phone,
		IP: clientIP(r.Context()), AppName: s.cfg.AppName, IssuerHost: s.cfg.Issuer.Hostname(),
	}
}

// resend sends a new code for the browser's challenge and shows the code
// form again; a refusal (cooldown, limits) is shown on it. A challenge that
// ended after wrong codes, or expired, is replaced by a new one to the same
// number: the person asked for it.
func (s *Server) resend(w http.ResponseWriter, r *http.Request, si signedIn, v view, purpose, page string, show func(view, mfa.Challenge, int)) {
	ch, open, err := s.openChallenge(r, si, purpose)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !open && (!ownChallenge(ch, si, purpose) || !ch.UsedAt.IsZero()) {
		s.clearChallengeCookie(w)
		http.Redirect(w, r, s.base+page+returnQuery(v.ReturnTo), http.StatusSeeOther)
		return
	}
	refused := func(err error) {
		s.codeRefused(w, r, v, ch, err, func(v view, status int) { show(v, ch, status) })
	}
	if open {
		if _, err := s.mfa.Resend(r.Context(), ch.ID, clientIP(r.Context())); err != nil {
			refused(err)
			return
		}
	} else {
		var phone mfa.Phone
		if purpose == mfa.PurposeEnroll {
			if phone, err = s.mfa.ChallengePhone(ch); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		next, err := s.mfa.StartChallenge(r.Context(), s.startRequest(r, si, purpose, phone))
		if err != nil {
			v.NoCode = true
			refused(err)
			return
		}
		s.setChallengeCookie(w, next.ID)
	}
	s.wakeOutbox()
	http.Redirect(w, r, s.base+page+returnQuery(v.ReturnTo), http.StatusSeeOther)
}

func returnQuery(returnTo string) string {
	if returnTo == "" {
		return ""
	}
	return "?return_to=" + urlQueryEscape(returnTo)
}

// andReturnTo is returnQuery for a URL that has a query already.
func andReturnTo(returnTo string) string {
	if returnTo == "" {
		return ""
	}
	return "&return_to=" + urlQueryEscape(returnTo)
}

func (s *Server) wakeOutbox() {
	if s.wake != nil {
		s.wake()
	}
}
