package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// The MFA steps. Each one does its job and returns to return_to, which in an
// OAuth flow is the dispatcher (/authorize/resume); the assurance authority,
// asked by the dispatcher and by every gate, decides whether MFA is needed.

// signInPurpose is an authorization request's question to the authority:
// acr_values naming multi-factor asks for a second factor whatever the
// policy, naming phishing-resistant asks for a passkey, and so does the
// application's own "phishing_resistant" policy.
func signInPurpose(acrValues string, client fosite.Client) assurance.Purpose {
	acrs := strings.Fields(acrValues)
	p := assurance.Purpose{Action: assurance.SignIn, StepUp: slices.Contains(acrs, acrMultiFactor),
		PhishingResistant: slices.Contains(acrs, assurance.PhishingResistant)}
	if c, ok := gatehouseClient(client); ok {
		if c.MFAPolicy == clients.PolicyPhishingResistant {
			p.PhishingResistant = true
		} else {
			p.AppPolicy = mfa.Policy(c.MFAPolicy)
		}
	}
	return p
}

// deviceCookie holds a remembered browser's token; the server keeps only its
// hash.
const deviceCookie = "gatehouse_device"

func (s *Server) rememberedBrowser(r *http.Request, si signedIn) (bool, error) {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return false, nil
	}
	return s.mfa.IsTrusted(r.Context(), si.user.ID, c.Value)
}

// rememberBrowser trusts this browser for the user after a passed challenge,
// unless the operator turned remembering off.
func (s *Server) rememberBrowser(w http.ResponseWriter, r *http.Request, si signedIn) error {
	if s.mfa.Rules(r.Context()).TrustedBrowserFor <= 0 {
		return nil
	}
	m := meta(r)
	token, b, err := s.mfa.TrustBrowser(r.Context(), si.user.ID, m.IP, m.UserAgent)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: token, Path: "/", Expires: b.ExpiresAt,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// mfaCookie carries the id of the browser's open challenge between the code
// screen's requests; the challenge itself is bound to the user and session.
const mfaCookie = "gatehouse_mfa"

func (s *Server) setChallengeCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: mfaCookie, Value: id, Path: s.base + "mfa/", MaxAge: 900,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearChallengeCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: mfaCookie, Value: "", Path: s.base + "mfa/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// openChallenge returns the browser's open challenge for this purpose, if it
// belongs to this user and session and can still take a code.
func (s *Server) openChallenge(r *http.Request, si signedIn, purpose string) (mfa.Challenge, bool, error) {
	c, err := r.Cookie(mfaCookie)
	if err != nil {
		return mfa.Challenge{}, false, nil
	}
	ch, err := s.mfa.Challenge(r.Context(), c.Value)
	if errors.Is(err, mfa.ErrChallengeNotFound) {
		return mfa.Challenge{}, false, nil
	}
	if err != nil {
		return mfa.Challenge{}, false, err
	}
	ok := ownChallenge(ch, si, purpose) && ch.UsedAt.IsZero() && ch.EndedAt.IsZero() && s.now().Before(ch.ExpiresAt)
	return ch, ok, nil
}

func ownChallenge(ch mfa.Challenge, si signedIn, purpose string) bool {
	return ch.UserID == si.user.ID && ch.TxID == sessionID(si.session) && ch.Purpose == purpose
}

// endedChallenge reports whether ch, as openChallenge returned it, is this
// session's and took its last wrong code: its page then says so and waits
// to be asked for a new code, instead of texting one nobody asked for.
func endedChallenge(ch mfa.Challenge, si signedIn, purpose string) bool {
	return ownChallenge(ch, si, purpose) && ch.UsedAt.IsZero() && !ch.EndedAt.IsZero()
}

func (s *Server) mfaView(r *http.Request, screen, title string) view {
	v := s.newView(r, screen, title)
	v.ReturnTo = s.safeReturnTo(r.FormValue("return_to"))
	if r.URL.Query().Has("reauth") {
		// Sent here by sudo mode: say why a signed-in user is asked again.
		v.Notice = "mfa.reauth"
	}
	rules := s.mfa.Rules(r.Context())
	v.RememberDays = int(min(rules.TrustedBrowserFor, rules.TrustedBrowserMax).Hours() / 24)
	return v
}

// resendIn is how many whole seconds remain before the challenge may be sent again.
func (s *Server) resendIn(ctx context.Context, c mfa.Challenge) int {
	left := c.LastSentAt.Add(s.mfa.Rules(ctx).ResendCooldown).Sub(s.now())
	return max(0, int(math.Ceil(left.Seconds())))
}

// mfaMessage turns an MFA refusal into words for the person, or "" when the
// error is not one of the expected refusals.
func (s *Server) mfaMessage(loc *i18n.Localizer, err error) (string, int) {
	var wrong *mfa.WrongCodeError
	var limit *mfa.LimitError
	var locked *mfa.LockedError
	var cooldown *mfa.CooldownError
	var phone *mfa.PhoneError
	switch {
	case errors.As(err, &wrong):
		return loc.T("mfa.wrong_code"), http.StatusBadRequest
	case errors.Is(err, mfa.ErrChallengeEnded):
		return loc.T("mfa.challenge_ended"), http.StatusBadRequest
	case errors.Is(err, mfa.ErrCodeExpired), errors.Is(err, mfa.ErrCodeUsed), errors.Is(err, mfa.ErrChallengeNotFound):
		return loc.T("mfa.code_expired"), http.StatusBadRequest
	case errors.As(err, &cooldown):
		return loc.T("mfa.cooldown"), http.StatusTooManyRequests
	case errors.As(err, &limit) && limit.Limit == mfa.LimitGlobalEnroll:
		return loc.T("mfa.enroll_budget", "Wait", untilText(loc, limit.RetryAt.Sub(s.now()))), http.StatusTooManyRequests
	case errors.As(err, &limit):
		return loc.T("mfa.limit", "Wait", untilText(loc, limit.RetryAt.Sub(s.now()))), http.StatusTooManyRequests
	case errors.As(err, &locked):
		return loc.T("mfa.locked_for", "Wait", untilText(loc, locked.Until.Sub(s.now()))), http.StatusTooManyRequests
	case errors.Is(err, mfa.ErrAccountLocked):
		return loc.T("mfa.account_locked"), http.StatusForbidden
	case errors.Is(err, mfa.ErrInvalidRecoveryCode):
		return loc.T("mfa.bad_recovery_code"), http.StatusBadRequest
	case errors.As(err, &phone):
		return loc.T(phoneReasonKey(phone.Reason)), http.StatusBadRequest
	case errors.Is(err, mfa.ErrWrongTOTP):
		return loc.T("mfa.wrong_totp"), http.StatusBadRequest
	case errors.Is(err, mfa.ErrPhoneOff):
		return loc.T("mfa.phone_off"), http.StatusForbidden
	case errors.Is(err, mfa.ErrTOTPReplayed):
		return loc.T("mfa.totp_replayed"), http.StatusBadRequest
	}
	return "", 0
}

func untilText(loc *i18n.Localizer, d time.Duration) string {
	if h := int(math.Ceil(d.Hours())); d > 90*time.Minute {
		return loc.T("wait.hours", "Count", h)
	}
	if m := int(math.Ceil(d.Minutes())); m > 1 {
		return loc.T("wait.minutes", "Count", m)
	}
	return loc.T("wait.a_minute")
}

// phoneReasonKey names the catalogue message for a refused phone number.
func phoneReasonKey(reason string) string {
	switch reason {
	case mfa.ReasonNotMobile:
		return "phone.not_mobile"
	case mfa.ReasonPremiumRate:
		return "phone.premium_rate"
	case mfa.ReasonTollFree:
		return "phone.toll_free"
	case mfa.ReasonCountryNotAllowed:
		return "phone.country_not_allowed"
	}
	return "phone.invalid"
}
