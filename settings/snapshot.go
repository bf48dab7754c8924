package settings

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// Snapshot is the settings as read at one moment. Getters that have an
// environment default take it as an argument.
type Snapshot struct {
	values map[string]string
}

func (s Snapshot) clone() Snapshot {
	return Snapshot{values: maps.Clone(s.values)}
}

// IsSet reports whether an admin set key.
func (s Snapshot) IsSet(key string) bool {
	_, ok := s.values[key]
	return ok
}

// Display is the value an admin may see: secrets only say whether they are set.
func (s Snapshot) Display(key string) string {
	v, ok := s.values[key]
	if specByKey[key].Secret {
		if ok {
			return "(set)"
		}
		return ""
	}
	return v
}

func (s Snapshot) boolean(key string, def bool) bool {
	if v, ok := s.values[key]; ok {
		return v == "true"
	}
	return def
}

func (s Snapshot) number(key string, def int) int {
	if v, ok := s.values[key]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func (s Snapshot) list(key string) []string {
	if v := s.values[key]; v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// Policy is the tenant's MFA policy.
func (s Snapshot) Policy() mfa.Policy {
	v, ok := s.values[KeyPolicy]
	if !ok {
		return mfa.DefaultPolicy
	}
	p, err := mfa.ParsePolicy(v)
	if err != nil {
		// An unreadable value must not switch MFA off.
		return mfa.PolicyAlways
	}
	return p
}

// PhoneEnabled reports whether the Phone Message factor is on.
func (s Snapshot) PhoneEnabled() bool { return s.boolean(KeyPhoneEnabled, true) }

// PasskeysEnabled reports whether passkeys may be added and used.
func (s Snapshot) PasskeysEnabled() bool { return s.boolean(KeyPasskeysEnabled, true) }

// AdminPhishingResistant reports whether the console asks admins for a
// passkey.
func (s Snapshot) AdminPhishingResistant() bool {
	return s.PasskeysEnabled() && s.boolean(KeyAdminPasskey, false)
}

// LanguageDefault is the admin's default language tag ("en" while unset).
func (s Snapshot) LanguageDefault() string {
	if v := s.values[KeyLanguageDefault]; v != "" {
		return v
	}
	return "en"
}

// Languages are the enabled language tags, always including the default;
// nil while unset means every shipped language.
func (s Snapshot) Languages() []string {
	l := s.list(KeyLanguages)
	if len(l) == 0 {
		return nil
	}
	if d := s.LanguageDefault(); !slices.Contains(l, d) {
		l = append(l, d)
	}
	return l
}

// AllowedRegions lists the countries whose numbers may be used; nil allows all.
func (s Snapshot) AllowedRegions() []string { return s.list(KeyAllowedRegions) }

// ChallengeMedium reports whether adaptive also challenges at medium confidence.
func (s Snapshot) ChallengeMedium(def bool) bool { return s.boolean(KeyChallengeMedium, def) }

// AuditRetention is how long audit entries are kept; 0 keeps them all.
func (s Snapshot) AuditRetention() time.Duration {
	return time.Duration(s.number(KeyAuditRetention, 0)) * 24 * time.Hour
}

// SubjectStyle is how new users' subjects are made.
func (s Snapshot) SubjectStyle() account.SubjectStyle {
	if v, ok := s.values[KeySubjectStyle]; ok {
		return account.SubjectStyle(v)
	}
	return account.SubjectUUID
}

// BlockedNetworks is the admin's list of untrusted networks.
func (s Snapshot) BlockedNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s.list(KeyBlockedNetworks) {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// overlay replaces the limit of window in limits with the one an admin set
// under key, if any.
func overlay(s Snapshot, key string, ls []limits.Limit, window time.Duration) []limits.Limit {
	if !s.IsSet(key) {
		return ls
	}
	out := make([]limits.Limit, 0, len(ls)+1)
	for _, l := range ls {
		if l.Window != window {
			out = append(out, l)
		}
	}
	return append(out, limits.Limit{Max: s.number(key, 0), Window: window})
}

// Rules lays the admin's limits and remember-browser lifetime over base.
func (s Snapshot) Rules(base mfa.Rules) mfa.Rules {
	r := base
	r.PhoneOff = !s.PhoneEnabled()
	if s.IsSet(KeyRememberDays) {
		r.TrustedBrowserFor = time.Duration(s.number(KeyRememberDays, 0)) * 24 * time.Hour
	}
	r.PhoneLimits = overlay(s, KeyLimitPhone10m, r.PhoneLimits, 10*time.Minute)
	r.PhoneLimits = overlay(s, KeyLimitPhoneDay, r.PhoneLimits, 24*time.Hour)
	r.IPLimits = overlay(s, KeyLimitIPHour, r.IPLimits, time.Hour)
	r.UserLimits = overlay(s, KeyLimitUserHour, r.UserLimits, time.Hour)
	r.GlobalLimits = overlay(s, KeyLimitGlobalHour, r.GlobalLimits, time.Hour)
	if s.IsSet(KeyLimitEnrollPct) {
		r.EnrollShare = s.number(KeyLimitEnrollPct, r.EnrollShare)
	}
	if s.IsSet(KeyCountryLimits) {
		r.CountryLimits = map[int]limits.Limit{}
		for _, pair := range s.list(KeyCountryLimits) {
			region, max, _ := strings.Cut(pair, "=")
			n, _ := strconv.Atoi(max)
			if cc := mfa.CallingCode(region); cc != 0 {
				r.CountryLimits[cc] = limits.Limit{Max: n, Window: time.Hour}
			}
		}
	}
	return r
}

// SignupRules lays the admin's signup limits over base.
func (s Snapshot) SignupRules(base account.SignupRules) account.SignupRules {
	r := base
	r.PerIP = overlay(s, KeySignupIPHour, r.PerIP, time.Hour)
	r.PerIP = overlay(s, KeySignupIPDay, r.PerIP, 24*time.Hour)
	return r
}

// Provider is the SMS delivery an admin chose. Provider "" means the
// environment's configuration applies.
type Provider struct {
	Name           string // "", "plivo", "webhook" or "console"
	Voice          bool
	PlivoAuthID    string
	PlivoAuthToken string
	PlivoSrc       string
	WebhookURL     string
	WebhookSecret  string
}

// SMSProvider returns the provider an admin chose, if any.
func (s Snapshot) SMSProvider() Provider {
	name := s.values[KeyProvider]
	if name == "environment" {
		name = ""
	}
	return Provider{
		Name:           name,
		Voice:          s.values[KeyDelivery] == "voice",
		PlivoAuthID:    s.values[KeyPlivoAuthID],
		PlivoAuthToken: s.values[KeyPlivoAuthToken],
		PlivoSrc:       s.values[KeyPlivoSrc],
		WebhookURL:     s.values[KeyWebhookURL],
		WebhookSecret:  s.values[KeyWebhookSecret],
	}
}

// check finds what is wrong with the settings as a whole after a change, for
// the keys that rule each problem.
func (s Snapshot) check(changed map[string]string) FieldErrors {
	problems := FieldErrors{}
	p := s.SMSProvider()
	required := map[string][]string{
		"plivo":   {KeyPlivoAuthID, KeyPlivoAuthToken, KeyPlivoSrc},
		"webhook": {KeyWebhookURL, KeyWebhookSecret},
	}
	names := map[string]string{"plivo": "Plivo", "webhook": "the webhook provider"}
	for _, k := range required[p.Name] {
		if !s.IsSet(k) {
			problems[k] = "is required when the SMS provider is " + names[p.Name]
		}
	}
	if p.Voice && p.Name != "webhook" {
		problems[KeyDelivery] = "voice calls are supported only by the webhook provider; choose sms"
	}
	for k := range problems {
		_, mentioned := changed[k]
		if !mentioned && !changedAny(changed, KeyProvider, KeyDelivery) {
			delete(problems, k)
		}
	}
	return problems
}

func changedAny(changed map[string]string, keys ...string) bool {
	for _, k := range keys {
		if _, ok := changed[k]; ok {
			return true
		}
	}
	return false
}
