package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/settings"
)

// adminMFAData is the Multi-factor auth page: every setting's label, help
// and value as shown (secrets only as set or not), and which provider
// delivers now.
type adminMFAData struct {
	Specs           map[string]settings.Spec
	Values          map[string]string
	SecretSet       map[string]bool
	Provider        string // the provider delivering now
	ProviderSource  string // "the console settings" or "the environment"
	PhoneEnabled    bool
	PasskeysEnabled bool
	AdminPasskey    bool
	ChallengeMed    bool
	ConfirmAlways   bool // the admin ticked the confirmation Always needs
	TestPhone       string
}

// The forms of the Multi-factor auth page, each saving its own settings.
// Checkboxes are listed apart: an unticked box is absent from the form.
var adminMFASections = map[string]struct{ keys, checkboxes []string }{
	"factor": {keys: []string{settings.KeyProvider, settings.KeyDelivery, settings.KeyPlivoAuthID, settings.KeyPlivoAuthToken,
		settings.KeyPlivoSrc, settings.KeyWebhookURL, settings.KeyWebhookSecret}, checkboxes: []string{settings.KeyPhoneEnabled}},
	"passkeys": {checkboxes: []string{settings.KeyPasskeysEnabled, settings.KeyAdminPasskey}},
	"policy":   {keys: []string{settings.KeyPolicy, settings.KeyRememberDays}},
	"limits": {keys: []string{settings.KeyAllowedRegions, settings.KeyLimitPhone10m, settings.KeyLimitPhoneDay,
		settings.KeyLimitIPHour, settings.KeyLimitUserHour, settings.KeyLimitGlobalHour, settings.KeyLimitEnrollPct, settings.KeyCountryLimits,
		settings.KeySignupIPHour, settings.KeySignupIPDay}},
	"adaptive":  {keys: []string{settings.KeyBlockedNetworks}, checkboxes: []string{settings.KeyChallengeMedium}},
	"languages": {keys: []string{settings.KeyLanguageDefault, settings.KeyLanguages}},
}

// adminMFAFields are the page's fields top to bottom, by the id the error
// summary links to: a setting's key, or the group of radio buttons.
var adminMFAFields = []string{
	settings.KeyPhoneEnabled, settings.KeyProvider, settings.KeyPlivoAuthID, settings.KeyPlivoAuthToken, settings.KeyPlivoSrc,
	settings.KeyWebhookURL, settings.KeyWebhookSecret, settings.KeyDelivery, "phone",
	settings.KeyPasskeysEnabled, settings.KeyAdminPasskey,
	settings.KeyPolicy, "confirm_always", settings.KeyRememberDays,
	settings.KeyAllowedRegions, settings.KeyCountryLimits, settings.KeyLimitPhone10m, settings.KeyLimitPhoneDay,
	settings.KeyLimitIPHour, settings.KeyLimitUserHour, settings.KeyLimitGlobalHour, settings.KeyLimitEnrollPct,
	settings.KeySignupIPHour, settings.KeySignupIPDay,
	settings.KeyChallengeMedium, settings.KeyBlockedNetworks,
	settings.KeyLanguageDefault, settings.KeyLanguages,
}

// refuseAdminMFA shows the page again with fields' messages, the summary
// at its top: the page is long, and a field far below would go unseen.
func (s *Server) refuseAdminMFA(w http.ResponseWriter, r *http.Request, v adminView, fields map[string]string, msg string) {
	d := v.Data.(*adminMFAData)
	v.Fields, v.Error = fields, msg
	v.Summary = errorSummary(fields, adminMFAFields, func(k string) string {
		switch k {
		case "phone":
			return "Send a test message to"
		case "confirm_always":
			return "Confirmation"
		}
		if spec, ok := d.Specs[k]; ok {
			return spec.Label
		}
		return k
	})
	s.renderAdmin(w, r, http.StatusBadRequest, "admin-mfa", v)
}

func (s *Server) adminMFAView(r *http.Request) (adminView, error) {
	ctx := r.Context()
	snap, err := s.tenant(ctx)
	if err != nil {
		return adminView{}, err
	}
	d := adminMFAData{Specs: map[string]settings.Spec{}, Values: map[string]string{}, SecretSet: map[string]bool{},
		PhoneEnabled: snap.PhoneEnabled(), PasskeysEnabled: snap.PasskeysEnabled(), AdminPasskey: snap.AdminPhishingResistant(),
		ChallengeMed: s.risk != nil && s.risk.ChallengesMedium(ctx)}
	for _, spec := range settings.All() {
		d.Specs[spec.Key] = spec
		if spec.Secret {
			d.SecretSet[spec.Key] = snap.IsSet(spec.Key)
			continue
		}
		d.Values[spec.Key] = snap.Display(spec.Key)
	}
	d.Values[settings.KeyPolicy] = string(snap.Policy())
	if d.Values[settings.KeyProvider] == "" {
		d.Values[settings.KeyProvider] = "environment"
	}
	if d.Values[settings.KeyDelivery] == "" {
		d.Values[settings.KeyDelivery] = "sms"
	}
	if d.Values[settings.KeyRememberDays] == "" && s.mfa != nil {
		d.Values[settings.KeyRememberDays] = itoaDays(s.mfa.Rules(ctx).TrustedBrowserFor)
	}
	d.ProviderSource = "the environment (GATEHOUSE_SMS_PROVIDER)"
	if snap.SMSProvider().Name != "" {
		d.ProviderSource = "the settings on this page"
	}
	if s.sms != nil {
		if sender, _, err := s.sms.Sender(ctx); err == nil {
			d.Provider = sender.Name()
		}
	}
	v := s.newAdminView(r, "mfa", "Multi-factor auth")
	v.Data = &d
	return v, nil
}

func itoaDays(d time.Duration) string {
	return strconv.Itoa(int(d / (24 * time.Hour)))
}

// handleAdminMFA shows the Multi-factor auth page.
func (s *Server) handleAdminMFA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.adminMFAView(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAdmin(w, r, http.StatusOK, "admin-mfa", v)
	})
}

// handleAdminMFASave saves one form of the page. Switching the policy to
// always needs the admin to confirm that every user will have to enroll.
func (s *Server) handleAdminMFASave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		section, ok := adminMFASections[r.PostForm.Get("section")]
		if !ok {
			s.renderError(w, r, http.StatusBadRequest)
			return
		}
		changes := map[string]string{}
		for _, k := range section.keys {
			if r.PostForm.Has(k) {
				changes[k] = r.PostForm.Get(k)
			}
		}
		for _, k := range section.checkboxes {
			changes[k] = "false"
			if r.PostForm.Get(k) != "" {
				changes[k] = "true"
			}
		}
		fields := settings.FieldErrors{}
		if changes[settings.KeyPolicy] == string(mfa.PolicyAlways) && r.PostForm.Get("confirm_always") == "" {
			if snap, err := s.tenant(ctx); err != nil {
				s.serverError(w, r, err)
				return
			} else if snap.Policy() != mfa.PolicyAlways {
				fields["confirm_always"] = "Confirm that every user will have to enroll a phone (or an authenticator app) at their next login."
			}
		}
		if changes[settings.KeyAdminPasskey] == "true" && !assurance.PassedPhishingResistant(mustSession(r).session.AMR) {
			// Requiring a passkey of every admin from a session that did not
			// use one could shut out the admin who asks.
			fields[settings.KeyAdminPasskey] = "Sign in to the console with a passkey first: then you know yours works."
		}
		err := error(fields)
		if len(fields) == 0 {
			err = s.settings.Set(ctx, changes, actor(mustSession(r)), meta(r))
		}
		if errors.As(err, &fields) {
			v, verr := s.adminMFAView(r)
			if verr != nil {
				s.serverError(w, r, verr)
				return
			}
			// The page shows what the admin sent, not what is saved.
			d := v.Data.(*adminMFAData)
			for k, val := range changes {
				if !d.Specs[k].Secret {
					d.Values[k] = val
				}
			}
			ticked := map[string]*bool{settings.KeyPhoneEnabled: &d.PhoneEnabled, settings.KeyPasskeysEnabled: &d.PasskeysEnabled,
				settings.KeyAdminPasskey: &d.AdminPasskey, settings.KeyChallengeMedium: &d.ChallengeMed}
			for k, box := range ticked {
				if val, ok := changes[k]; ok {
					*box = val == "true"
				}
			}
			d.ConfirmAlways = r.PostForm.Get("confirm_always") != ""
			s.refuseAdminMFA(w, r, v, fields, "Nothing was saved: correct the fields listed here.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/mfa", "Saved. Every server applies the change within a second.")
	})
}

// handleAdminSMSTest sends a test message to a number through the provider
// chosen now, at once and outside the outbox, so the admin sees the
// provider's answer.
func (s *Server) handleAdminSMSTest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v, err := s.adminMFAView(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d := v.Data.(*adminMFAData)
		d.TestPhone = r.PostForm.Get("phone")
		fail := func(field, msg string) {
			if field == "" {
				v.Error = msg
				s.renderAdmin(w, r, http.StatusBadRequest, "admin-mfa", v)
				return
			}
			s.refuseAdminMFA(w, r, v, map[string]string{field: msg}, msg)
		}
		if s.sms == nil {
			fail("", "SMS delivery is not configured on this server.")
			return
		}
		snap, err := s.tenant(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !snap.PhoneEnabled() {
			fail("", "Phone Message is turned off, so no text message is sent, not even a test. Turn it on first.")
			return
		}
		// The same numbers as enrollment: a test message must not reach a
		// country the allow list keeps out.
		phone, err := mfa.ParsePhone(d.TestPhone, "", snap.AllowedRegions())
		if err != nil {
			msg := "Enter a mobile number in international form, e.g. +447911123456."
			if refused := (*mfa.PhoneError)(nil); errors.As(err, &refused) {
				msg = refused.Message
			}
			fail("phone", msg)
			return
		}
		sendCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		receipt, err := s.sms.Send(sendCtx, sms.Message{ID: "test-" + requestID(ctx), To: phone.E164, Purpose: "test", Locale: "en",
			Text: "This is a test message from " + s.cfg.AppName + ". Your SMS delivery works."})
		details := map[string]any{"by": actor(mustSession(r)), "provider": receipt.Provider, "country_code": phone.CountryCode}
		if err != nil {
			details["error"] = err.Error()
		}
		s.audit(r, account.Event{Type: "admin.sms_test", Details: details})
		if err != nil {
			s.logger(ctx).Warn("test SMS failed", "provider", receipt.Provider, "err", err)
			fail("phone", "The provider did not take the message: "+err.Error())
			return
		}
		s.seeOther(w, r, "admin/mfa", "Test message handed to "+receipt.Provider+" for "+phone.E164+
			". If it does not arrive, check the provider's logs.")
	})
}
