package settings

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// Spec describes one setting for the console, the API and the CLI.
type Spec struct {
	Key     string
	Group   string // "mfa", "sms", "limits", "adaptive", "audit", "users", "branding" or "languages"
	Label   string
	Help    string
	Secret  bool   // write-only: stored sealed, never shown again
	Default string // what applies while unset, in words
	Parse   func(string) (string, error)
}

// Setting keys. mfa_policy, mfa_allowed_regions and risk_blocked_cidrs keep
// the names they had before the console existed.
const (
	KeyPolicy          = mfa.PolicySettingKey
	KeyPhoneEnabled    = "mfa_phone_enabled"
	KeyPasskeysEnabled = "mfa_passkeys_enabled"
	KeyAdminPasskey    = "mfa_admin_phishing_resistant"
	KeyRememberDays    = "mfa_remember_days"
	KeyAllowedRegions  = "mfa_allowed_regions"
	KeyProvider        = "sms_provider"
	KeyDelivery        = "sms_delivery"
	KeyPlivoAuthID     = "plivo_auth_id"
	KeyPlivoAuthToken  = "plivo_auth_token"
	KeyPlivoSrc        = "plivo_src"
	KeyWebhookURL      = "webhook_url"
	KeyWebhookSecret   = "webhook_secret"
	KeyLimitPhone10m   = "sms_limit_phone_10m"
	KeyLimitPhoneDay   = "sms_limit_phone_day"
	KeyLimitIPHour     = "sms_limit_ip_hour"
	KeyLimitUserHour   = "sms_limit_user_hour"
	KeyLimitGlobalHour = "sms_limit_global_hour"
	KeyLimitEnrollPct  = "sms_limit_enroll_percent"
	KeyCountryLimits   = "sms_country_limits"
	KeySignupIPHour    = "signup_limit_ip_hour"
	KeySignupIPDay     = "signup_limit_ip_day"
	KeyChallengeMedium = "risk_challenge_medium"
	KeyBlockedNetworks = "risk_blocked_cidrs"
	KeyAuditRetention  = "audit_retention_days"
	KeySubjectStyle    = "user_subject_style"

	KeyBrandName       = "branding_name"
	KeyBrandLogoURL    = "branding_logo_url"
	KeyBrandPrimary    = "branding_primary_color"
	KeyBrandBackground = "branding_background_color"
	KeyLanguageDefault = "language_default"
	KeyLanguages       = "languages_enabled"
)

// MinAuditRetentionDays is the shortest audit retention an admin may set: the
// dashboard's figures count the last week of the log.
const MinAuditRetentionDays = 7

// MaxRememberDays caps the "remember this browser" lifetime an admin may choose.
const MaxRememberDays = 90

var specs = func() []Spec {
	d, signup := mfa.DefaultRules(), account.DefaultSignupRules()
	return []Spec{
		{Key: KeyPolicy, Group: "mfa", Label: "MFA policy", Default: string(mfa.DefaultPolicy),
			Help:  "never: no second factor; adaptive: only for risky logins; always: every login, and every user must enroll.",
			Parse: oneOf("never", "adaptive", "always")},
		{Key: KeyPhoneEnabled, Group: "mfa", Label: "Phone Message factor", Default: "true",
			Help:  "Whether users may enroll and pass a phone number (SMS codes). Off: only authenticator apps count as a second factor.",
			Parse: parseBool},
		{Key: KeyPasskeysEnabled, Group: "mfa", Label: "Passkeys", Default: "true",
			Help:  "Whether users may add passkeys (WebAuthn): a phishing-resistant second factor, and sign-in without a password. Off: passkeys are neither offered nor accepted.",
			Parse: parseBool},
		{Key: KeyAdminPasskey, Group: "mfa", Label: "Admins must use a passkey", Default: "false",
			Help:  "The admin console then accepts only a session that passed a passkey; an SMS or app code is not enough.",
			Parse: parseBool},
		{Key: KeyRememberDays, Group: "mfa", Label: "Remember browser for (days)", Default: "GATEHOUSE_REMEMBER_BROWSER_FOR, else 30",
			Help:  "How long a browser the user asks to remember skips the challenge; 0 turns the checkbox off.",
			Parse: intBetween(0, MaxRememberDays)},
		{Key: KeyAllowedRegions, Group: "mfa", Label: "Allowed countries", Default: "all",
			Help:  "Comma-separated ISO 3166 codes (e.g. GB, US, DE) whose phone numbers may enroll and receive codes; empty allows all.",
			Parse: parseRegions},
		{Key: KeyProvider, Group: "sms", Label: "SMS provider", Default: "environment (GATEHOUSE_SMS_PROVIDER)",
			Help:  "plivo, webhook (your own endpoint, HMAC-signed) or console (writes codes to the log); environment uses the deployment's configuration.",
			Parse: oneOf("environment", "plivo", "webhook", "console")},
		{Key: KeyDelivery, Group: "sms", Label: "Delivery", Default: "sms",
			Help:  "sms, or voice (a call reading the code) where the provider supports it: the webhook provider receives the channel.",
			Parse: oneOf("sms", "voice")},
		{Key: KeyPlivoAuthID, Group: "sms", Label: "Plivo Auth ID", Help: "From the Plivo console's overview page.", Parse: parsePlivoAuthID},
		{Key: KeyPlivoAuthToken, Group: "sms", Label: "Plivo Auth Token", Secret: true,
			Help: "Write-only: stored encrypted, never shown again. Leave blank to keep the current one.", Parse: parsePlivoAuthToken},
		{Key: KeyPlivoSrc, Group: "sms", Label: "Sender number",
			Help: "A Plivo number in E.164 form (e.g. +14155550100) or an alphanumeric sender ID.", Parse: parseSender},
		{Key: KeyWebhookURL, Group: "sms", Label: "Webhook URL", Help: "Your endpoint; it receives a signed JSON POST per message.", Parse: parseHTTPURL},
		{Key: KeyWebhookSecret, Group: "sms", Label: "Webhook secret", Secret: true,
			Help: "At least 32 characters; signs each POST. Write-only.", Parse: parseWebhookSecret},
		{Key: KeyLimitPhone10m, Group: "limits", Label: "Codes per phone per 10 minutes", Default: itoa(d.PhoneLimits[0].Max), Help: "0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeyLimitPhoneDay, Group: "limits", Label: "Codes per phone per day", Default: itoa(d.PhoneLimits[1].Max), Help: "0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeyLimitIPHour, Group: "limits", Label: "Codes per IP address per hour", Default: itoa(d.IPLimits[0].Max), Help: "IPv6 addresses count per /64. 0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeyLimitUserHour, Group: "limits", Label: "Codes per user per hour", Default: itoa(d.UserLimits[0].Max), Help: "0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeyLimitGlobalHour, Group: "limits", Label: "Codes per hour in total", Default: itoa(d.GlobalLimits[0].Max), Help: "The installation's SMS budget; it caps the cost of an SMS-pumping attack. 0 turns it off.", Parse: intBetween(0, 10_000_000)},
		{Key: KeyLimitEnrollPct, Group: "limits", Label: "Share of the total for new numbers (%)", Default: itoa(d.EnrollShare),
			Help:  "Codes to numbers being enrolled may use at most this percent of the codes per hour in total; the rest is kept for codes to verified phones (sign-in, password reset), so a flood of new accounts cannot stop users from signing in. 100 keeps nothing back.",
			Parse: intBetween(1, 100)},
		{Key: KeyCountryLimits, Group: "limits", Label: "Codes per country per hour", Default: "none",
			Help: "Comma-separated COUNTRY=MAX pairs, e.g. GB=200, NG=20, for countries that need their own budget.", Parse: parseCountryLimits},
		{Key: KeySignupIPHour, Group: "limits", Label: "Signups per IP address per hour", Default: itoa(signup.PerIP[0].Max),
			Help: "Accounts one address may create; each may ask for codes to a new number. IPv6 addresses count per /64. 0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeySignupIPDay, Group: "limits", Label: "Signups per IP address per day", Default: itoa(signup.PerIP[1].Max),
			Help: "IPv6 addresses count per /64. 0 turns the limit off.", Parse: intBetween(0, 1_000_000)},
		{Key: KeyChallengeMedium, Group: "adaptive", Label: "Challenge medium-confidence logins", Default: "GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM, else true",
			Help: "Adaptive asks for the code at low confidence; with this on, at medium confidence too (a new device, or a new country).", Parse: parseBool},
		{Key: KeyBlockedNetworks, Group: "adaptive", Label: "Untrusted networks", Default: "none",
			Help: "Comma-separated CIDRs (e.g. 203.0.113.0/24) whose logins adaptive always challenges.", Parse: parseNetworks},
		{Key: KeyAuditRetention, Group: "audit", Label: "Keep audit log for (days)", Default: "0 (keep every entry)",
			Help:  "Entries older than this are deleted, in small batches by one replica at a time, within ten minutes of coming due. 0 keeps every entry; otherwise at least 7.",
			Parse: parseRetentionDays},
		{Key: KeySubjectStyle, Group: "users", Label: "Subjects of new users", Default: string(account.SubjectUUID),
			Help:  "The sub of new users' tokens: uuid (the user's id), or auth0 (auth0| and 24 hex digits, like the users imported from Auth0). A user's subject never changes; imported users keep their Auth0 user_id.",
			Parse: oneOf(string(account.SubjectUUID), string(account.SubjectAuth0))},
		{Key: KeyBrandName, Group: "branding", Label: "Name on the login pages", Default: "Gatehouse",
			Help: "What the hosted pages call this service where no application names itself; at most 64 characters.", Parse: branding.ParseName},
		{Key: KeyBrandLogoURL, Group: "branding", Label: "Logo URL", Default: "none",
			Help: "An https image shown on the hosted pages of applications without a logo of their own.", Parse: branding.ParseLogoURL},
		{Key: KeyBrandPrimary, Group: "branding", Label: "Primary colour", Default: "#4338ca",
			Help: "Buttons and links, e.g. #1d4ed8; it must reach 4.5:1 contrast with white text.", Parse: branding.ParsePrimary},
		{Key: KeyBrandBackground, Group: "branding", Label: "Page background", Default: "#f3f4f6",
			Help: "Behind the card, e.g. #f8fafc; it must reach 4.5:1 contrast with dark or white text.", Parse: branding.ParseBackground},
		{Key: KeyLanguageDefault, Group: "languages", Label: "Default language", Default: "en",
			Help:  "The language of the hosted pages, texts and mails when neither the application (ui_locales), the user's own choice nor the browser names an enabled one. One of " + strings.Join(Languages, ", ") + ".",
			Parse: parseLanguage},
		{Key: KeyLanguages, Group: "languages", Label: "Enabled languages", Default: "all",
			Help:  "Comma-separated language tags the hosted pages may speak (" + strings.Join(Languages, ", ") + "); empty enables all. The default language is always enabled.",
			Parse: parseLanguages},
	}
}()

// Languages are the tags Gatehouse ships catalogues for; package i18n's
// tests keep this list and its catalogues the same.
var Languages = []string{"en", "ar", "de", "es", "fr", "hi", "pt-BR"}

func parseLanguage(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil // English, as while unset
	}
	for _, l := range Languages {
		if strings.EqualFold(v, l) {
			return l, nil
		}
	}
	return "", fmt.Errorf("choose one of %s", strings.Join(Languages, ", "))
}

func parseLanguages(v string) (string, error) {
	var out []string
	for _, item := range splitList(v) {
		l, err := parseLanguage(item)
		if err != nil {
			return "", fmt.Errorf("%q is not a language Gatehouse speaks: %w", item, err)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, ","), nil
}

var specByKey = func() map[string]Spec {
	m := make(map[string]Spec, len(specs))
	for _, s := range specs {
		m[s.Key] = s
	}
	return m
}()

func itoa(n int) string { return strconv.Itoa(n) }

func oneOf(values ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		v = strings.ToLower(v)
		if slices.Contains(values, v) {
			return v, nil
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(values, ", "))
	}
}

func parseBool(v string) (string, error) {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return "true", nil
	case "false", "off", "no", "0":
		return "false", nil
	}
	return "", errors.New("must be true or false")
}

func intBetween(lo, hi int) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "", fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		return strconv.Itoa(n), nil
	}
}

func parseRetentionDays(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 36500 || (n > 0 && n < MinAuditRetentionDays) {
		return "", fmt.Errorf("must be 0 (keep every entry) or a whole number of days from %d to 36500", MinAuditRetentionDays)
	}
	return strconv.Itoa(n), nil
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		out = append(out, f)
	}
	return out
}

func parseRegions(v string) (string, error) {
	var out []string
	for _, r := range splitList(v) {
		r = strings.ToUpper(r)
		if mfa.CallingCode(r) == 0 {
			return "", fmt.Errorf("%q is not a country code; use two letters such as GB or US", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return strings.Join(out, ","), nil
}

var (
	plivoAuthID   = regexp.MustCompile(`^[A-Za-z0-9]{10,40}$`)
	e164          = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alphaSenderID = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	hasLetter     = regexp.MustCompile(`[A-Za-z]`)
)

func parsePlivoAuthID(v string) (string, error) {
	if !plivoAuthID.MatchString(v) {
		return "", errors.New("must be the Auth ID from the Plivo console: letters and digits, e.g. MAXXXXXXXXXXXXXXXXXX")
	}
	return v, nil
}

func parsePlivoAuthToken(v string) (string, error) {
	if len(v) < 16 || strings.ContainsAny(v, " \t\r\n") {
		return "", errors.New("must be the Auth Token from the Plivo console: at least 16 characters, no spaces")
	}
	return v, nil
}

func parseSender(v string) (string, error) {
	compact := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(v)
	if strings.HasPrefix(compact, "+") {
		if !e164.MatchString(compact) {
			return "", errors.New("must be a number in E.164 form: + then the country code and number, 8 to 15 digits, e.g. +14155550100")
		}
		return compact, nil
	}
	if alphaSenderID.MatchString(v) && hasLetter.MatchString(v) {
		return v, nil
	}
	return "", errors.New("must be a number in E.164 form (e.g. +14155550100) or a sender ID of up to 11 letters and digits")
}

func parseHTTPURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", errors.New("must be an http(s) URL such as https://sms.example.com/send, without credentials or #fragment")
	}
	return u.String(), nil
}

func parseWebhookSecret(v string) (string, error) {
	if len(v) < 32 {
		return "", errors.New("must be at least 32 characters")
	}
	return v, nil
}

func parseCountryLimits(v string) (string, error) {
	var out []string
	seen := map[string]bool{}
	for _, pair := range splitList(v) {
		region, max, ok := strings.Cut(pair, "=")
		region = strings.ToUpper(strings.TrimSpace(region))
		n, err := strconv.Atoi(strings.TrimSpace(max))
		if !ok || mfa.CallingCode(region) == 0 || err != nil || n < 0 || n > 10_000_000 {
			return "", fmt.Errorf("%q is not COUNTRY=MAX, e.g. GB=200", pair)
		}
		if seen[region] {
			return "", fmt.Errorf("%s is listed twice", region)
		}
		seen[region] = true
		out = append(out, region+"="+strconv.Itoa(n))
	}
	return strings.Join(out, ","), nil
}

func parseNetworks(v string) (string, error) {
	var out []string
	for _, f := range splitList(v) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return "", fmt.Errorf("%q is not an IP address or CIDR such as 203.0.113.0/24", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if s := p.Masked().String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ","), nil
}
