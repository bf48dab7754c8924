package templates_test

import (
	"bytes"
	"html/template"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/templates"
)

type testUser struct {
	Email         string
	EmailVerified bool
	Name          string
}

type testBrand struct {
	StyleURL, LogoURL, ImgOrigin string
}

type testCountry struct {
	Code, Name, Dial string
	Selected         bool
}

// pageData mirrors the fields the server passes to every page, plus the
// page-specific ones.
type pageData struct {
	Title     string
	AppName   string
	Screen    string
	Base      string
	Error     string
	Notice    string
	RequestID string
	User      *testUser
	Wide      bool
	Brand     *testBrand

	ReturnTo    string
	Email       string
	Name        string
	MinLength   int
	MaxLength   int
	MemberSince string
	Message     string

	// MFA pages.
	Countries     []testCountry
	Phone         string
	PhoneExample  string
	MaskedPhone   string
	Step          string
	ResendIn      int
	RecoveryCodes []string
	AttemptsLeft  int

	// Security page.
	Sessions          []testDevice
	Browsers          []testDevice
	PhoneAvailable    bool
	PhoneID           string
	RecoveryCodesLeft int

	RememberDays   int
	RecoveryAction string
	NoCode         bool
	SendBlocked    bool
	RecoveryFile   template.URL
	RecoveryMAC    string

	// Account page.
	SendsVerification bool
	VerificationSent  bool
	Languages         []testLanguage

	// Password reset.
	Sent bool

	// TOTP.
	TOTPAvailable bool
	HasTOTP       bool
	HasPhone      bool
	TOTPSecret    string

	// Passkeys.
	Passkey           *testCeremony
	HasPasskey        bool
	Passkeys          []testPasskey
	PasskeysAvailable bool
}

type testLanguage struct {
	Tag, Name string
	Selected  bool
}

type testCeremony struct{ Mode, Ceremony, Options, OptionsURL string }

type testPasskey struct {
	ID, Name, Authenticator, Created, LastUsed string
	Synced, CloneWarning                       bool
}

type testDevice struct {
	ID, Device, Place, LastSeen, Until string
	Current                            bool
}

func render(t *testing.T, page string, d pageData) string {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return renderIn(t, cat.Localizer(i18n.English), page, d)
}

func renderIn(t *testing.T, loc *i18n.Localizer, page string, d pageData) string {
	t.Helper()
	tmpl, err := template.New("").Funcs(loc.TemplateFuncs()).ParseFS(templates.FS, "layout.html", "pages/"+page+".html")
	if err != nil {
		t.Fatalf("parse %s: %v", page, err)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", d); err != nil {
		t.Fatalf("execute %s: %v", page, err)
	}
	return buf.String()
}

func TestPages(t *testing.T) {
	tests := []struct {
		name     string // subtest name; defaults to page
		page     string
		signedIn bool
		setup    func(*pageData)
		inputs   []string
		contains []string
		excludes []string
	}{
		{
			page:   "login",
			inputs: []string{"return_to", "email", "password"},
			contains: []string{
				`action="/auth/login"`,
				`autocomplete="current-password"`,
				`href="/auth/signup?return_to=%2fauthorize%3fclient_id%3dabc%26state%3dx%20y"`,
				"Log in", "Continue", "to continue to Acme",
			},
		},
		{
			page:   "signup",
			inputs: []string{"return_to", "email", "name", "password"},
			contains: []string{
				`action="/auth/signup"`,
				`autocomplete="new-password"`,
				`minlength="12"`, `maxlength="128"`,
				`aria-describedby="password-hint"`, `id="password-hint"`,
				"At least 12 characters.",
				"Create your account", "(optional)",
			},
		},
		{
			page:     "account",
			signedIn: true,
			inputs:   []string{"current_password", "new_password"},
			contains: []string{
				`action="/auth/account/password"`,
				`action="/auth/logout"`,
				`href="/auth/account/security">Security</a>`,
				"Your account", "ada@example.com", "Ada Lovelace",
				"Member since", "March 4, 2024", "Change password", "Log out",
			},
			excludes: []string{"account/sessions/end", "account/totp", "Remembered browsers"},
		},
		{
			page:     "security",
			signedIn: true,
			inputs:   []string{"sid", "id"},
			setup: func(d *pageData) {
				d.Sessions = []testDevice{{ID: "s1", Device: "Firefox on Linux", Place: "London, GB", LastSeen: "just now", Current: true},
					{ID: "s2", Device: "Safari on iPhone", Place: "198.51.100.2", LastSeen: "2 days ago"}}
				d.Browsers = []testDevice{{ID: "b1", Device: "Firefox on Linux", Place: "London, GB", Until: "March 4, 2025"}}
				d.TOTPAvailable, d.PhoneAvailable, d.PhoneID, d.RecoveryCodesLeft = true, true, "f1", 7
			},
			contains: []string{
				"Codes by text message to", "•••• 0123",
				`href="/auth/mfa/enroll?change=1&amp;return_to=%2fauth%2faccount/security">Change phone</a>`,
				`action="/auth/account/phone/remove"`, `value="f1"`, "Remove phone",
				`href="/auth/account/totp">Set up authenticator app</a>`,
				"7 unused codes left", `action="/auth/account/recovery-codes"`, "Regenerate recovery codes",
				`action="/auth/account/sessions/end"`, `value="s2"`, "This browser", "Safari on iPhone", "London, GB · last active just now",
				`action="/auth/account/sessions/end-others"`, "Log out all other sessions",
				`action="/auth/account/browsers/forget"`, "Remembered browsers", "remembered until March 4, 2025",
				`action="/auth/account/browsers/forget-all"`, "Forget all browsers",
			},
			excludes: []string{"Remove app", "Add phone"},
		},
		{
			page:     "logout",
			signedIn: true,
			contains: []string{
				`action="/auth/logout"`, `href="/auth/account"`,
				"Log out?", "signed out of Acme on this browser",
			},
		},
		{
			page: "error",
			contains: []string{
				"Something went wrong", "The request could not be completed.",
				"Reference: <code>req-123</code>", `href="/auth/login"`,
			},
		},
		{
			name:   "enroll-phone",
			page:   "enroll",
			setup:  func(d *pageData) { d.Step = "phone"; d.Phone = "07700 900123" },
			inputs: []string{"return_to", "step", "country", "phone"},
			contains: []string{
				`action="/auth/mfa/enroll"`,
				`name="step" value="phone"`,
				`<select id="country" name="country" autocomplete="country">`,
				`<option value="FR">France (&#43;33)</option>`,
				`<option value="GB" selected>United Kingdom (&#43;44)</option>`,
				`type="tel" autocomplete="tel-national" inputmode="tel" required`,
				`value="07700 900123"`,
				"Secure your account", "We'll text you a code each time you log in.",
				"like +44 7700 900123.", ">Send code</button>",
			},
			excludes: []string{`name="code"`, "Resend"},
		},
		{
			name:   "enroll-code",
			page:   "enroll",
			setup:  func(d *pageData) { d.Step = "code"; d.ResendIn = 30 },
			inputs: []string{"return_to", "step", "code"},
			contains: []string{
				`action="/auth/mfa/enroll"`,
				`name="step" value="code"`, `name="step" value="resend"`,
				`autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 \-]*" maxlength="12" required autofocus`,
				"Enter the code", `We sent a 6-digit code to <span class="nowrap">•••• 0123</span>.`,
				"Verification code", ">Verify</button>",
				`class="reveal reveal-after-30"`,
				`<button type="submit" class="button button-secondary" disabled aria-describedby="resend-wait">Resend</button>`,
				`<button type="submit" class="button button-secondary">Resend</button>`,
				"You can ask for a new code in 30 seconds.",
				`href="/auth/mfa/enroll?return_to=%2fauthorize%3fclient_id%3dabc%26state%3dx%20y">Use a different number</a>`,
			},
			excludes: []string{`name="country"`, `name="phone"`},
		},
		{
			page:   "totp",
			setup:  func(d *pageData) { d.HasTOTP, d.HasPhone, d.RecoveryAction = true, true, "mfa/totp" },
			inputs: []string{"return_to", "step", "code", "remember", "recovery_code"},
			contains: []string{
				`action="/auth/mfa/totp"`, `name="step" value="code"`, `name="step" value="recovery"`,
				`autocomplete="one-time-code" inputmode="numeric"`, "Text me a code instead",
			},
		},
		{
			page:     "totp",
			setup:    func(d *pageData) { d.RecoveryAction = "mfa/totp" }, // recovery codes only
			inputs:   []string{"return_to", "step", "recovery_code"},
			contains: []string{"Enter a recovery code", `name="step" value="recovery"`},
			excludes: []string{`name="code"`, "Text me a code instead"},
		},
		{
			page: "passkey",
			setup: func(d *pageData) {
				d.Passkey = &testCeremony{Mode: "get", Ceremony: "c1", Options: `{"publicKey":{"challenge":"x<"}}`}
				d.HasPhone, d.RecoveryAction = true, "mfa/totp"
			},
			inputs: []string{"ceremony", "response", "return_to", "step", "recovery_code"},
			contains: []string{`action="/auth/mfa/passkey"`, `data-passkey="get"`, `data-ceremony="c1"`,
				`data-options="{&#34;publicKey&#34;:{&#34;challenge&#34;:&#34;x&lt;&#34;}}"`, `src="/auth/static/passkey.js"`,
				"Text me a code instead"},
		},
		{
			page:     "passkey-enroll",
			setup:    func(d *pageData) { d.Passkey = &testCeremony{Mode: "register", Ceremony: "c2", Options: "{}"} },
			inputs:   []string{"ceremony", "response", "return_to", "name"},
			contains: []string{`action="/auth/account/passkeys"`, `data-passkey="register"`, `src="/auth/static/passkey.js"`},
		},
		{
			name: "login offers passkeys",
			page: "login",
			setup: func(d *pageData) {
				d.Passkey = &testCeremony{Mode: "discoverable", OptionsURL: "/auth/login/passkey/options"}
			},
			inputs:   []string{"return_to", "email", "password", "ceremony", "response"},
			contains: []string{`autocomplete="username webauthn"`, "Sign in with a passkey", `data-options-url="/auth/login/passkey/options"`},
		},
		{
			page:   "totp-setup",
			setup:  func(d *pageData) { d.TOTPSecret = "JBSWY3DPEHPK3PXP" },
			inputs: []string{"code"},
			contains: []string{
				`src="/auth/account/totp/qr.png"`, "JBSWY3DPEHPK3PXP", `action="/auth/account/totp"`,
				`autocomplete="one-time-code"`,
			},
		},
		{
			page:   "challenge",
			setup:  func(d *pageData) { d.AttemptsLeft = 3; d.RecoveryAction = "mfa/challenge" },
			inputs: []string{"return_to", "step", "code", "remember", "recovery_code"},
			contains: []string{
				`action="/auth/mfa/challenge"`,
				`name="step" value="code"`, `name="step" value="resend"`, `name="step" value="recovery"`,
				`autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 \-]*" maxlength="12" required autofocus aria-describedby="attempts-left"`,
				`<p class="hint" id="attempts-left">3 attempts left</p>`,
				`type="checkbox" value="1">`, "Remember this browser for 30 days",
				"Check your phone", `Enter the 6-digit code we sent to <span class="nowrap">•••• 0123</span>.`,
				">Continue</button>",
				`<button type="submit" class="button button-secondary">Resend</button>`,
				`<summary>Use a recovery code</summary>`,
				`name="recovery_code" class="input-mono" type="text" autocomplete="off"`,
				">Use recovery code</button>",
			},
			excludes: []string{"disabled", "reveal", "You can ask for a new code"},
		},
		{
			page:   "recovery",
			inputs: []string{"return_to", "saved"},
			contains: []string{
				`action="/auth/mfa/recovery"`,
				"Save your recovery codes", "they won't be shown again.",
				"<ol class=\"recovery-codes\">\n  <li>AAAA-1111</li>\n  <li>BBBB-2222</li>\n  <li>CCCC-3333</li>\n</ol>",
				`name="saved" type="checkbox" value="1" required>`,
				"I saved my recovery codes", ">Continue</button>",
			},
		},
	}

	for _, tc := range tests {
		name := tc.name
		if name == "" {
			name = tc.page
		}
		t.Run(name, func(t *testing.T) {
			d := pageData{
				Title:       "Something went wrong",
				AppName:     "Acme",
				Screen:      tc.page,
				Base:        "/auth/",
				RequestID:   "req-123",
				ReturnTo:    "/authorize?client_id=abc&state=x y",
				Email:       "ada@example.com",
				Name:        "Ada",
				MinLength:   12,
				MaxLength:   128,
				MemberSince: "March 4, 2024",
				Message:     "The request could not be completed.",
				Countries: []testCountry{
					{Code: "FR", Name: "France", Dial: "+33"},
					{Code: "GB", Name: "United Kingdom", Dial: "+44", Selected: true},
				},
				MaskedPhone:   "•••• 0123",
				RememberDays:  30,
				RecoveryCodes: []string{"AAAA-1111", "BBBB-2222", "CCCC-3333"},
			}
			if tc.signedIn {
				d.User = &testUser{Email: "ada@example.com", Name: "Ada Lovelace"}
			}
			if tc.setup != nil {
				tc.setup(&d)
			}

			out := render(t, tc.page, d)
			mustContain := append([]string{
				`<!doctype html>`,
				`<html lang="en">`,
				`<meta charset="utf-8">`,
				`name="viewport"`,
				`<title>Something went wrong · Acme</title>`,
				`<link rel="stylesheet" href="/auth/static/style.css">`,
				`data-screen="` + tc.page + `"`,
			}, tc.contains...)
			for _, name := range tc.inputs {
				mustContain = append(mustContain, `name="`+name+`"`)
			}
			for _, s := range mustContain {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q", s)
				}
			}
			for _, s := range tc.excludes {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q", s)
				}
			}
			checkCSPSafe(t, out)
			checkForms(t, out)
			if strings.Contains(out, `role="alert"`) || strings.Contains(out, `role="status"`) {
				t.Errorf("alert rendered without Error/Notice")
			}

			d.Error = "Wrong email or password <script>"
			d.Notice = "Password changed."
			out = render(t, tc.page, d)
			for _, s := range []string{
				`<div role="alert" class="alert alert-error">Wrong email or password &lt;script&gt;</div>`,
				`<div role="status" class="alert alert-notice">Password changed.</div>`,
			} {
				if !strings.Contains(out, s) {
					t.Errorf("output with Error/Notice lacks %q", s)
				}
			}
			checkCSPSafe(t, out)
		})
	}
}

// TestLoginWithoutReturnTo checks optional parts disappear and Base "/" works.
func TestLoginWithoutReturnTo(t *testing.T) {
	out := render(t, "login", pageData{Title: "Log in", AppName: "Gatehouse", Screen: "login", Base: "/"})
	for _, s := range []string{`action="/login"`, `href="/signup"`, `href="/static/style.css"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(out, "return_to") {
		t.Errorf("return_to rendered although empty")
	}
}

// TestAccountWithoutName checks the placeholder for a missing name.
func TestAccountWithoutName(t *testing.T) {
	out := render(t, "account", pageData{
		Title: "Your account", AppName: "Gatehouse", Screen: "account", Base: "/",
		User: &testUser{Email: "x@example.com"}, MemberSince: "today", MinLength: 8, MaxLength: 64,
	})
	if !strings.Contains(out, "<dd>—</dd>") {
		t.Errorf("missing name placeholder")
	}
}

func TestErrorWithoutRequestID(t *testing.T) {
	out := render(t, "error", pageData{Title: "Not found", AppName: "Gatehouse", Screen: "error", Base: "/", Message: "No such page."})
	if strings.Contains(out, "Reference:") {
		t.Errorf("reference line rendered without RequestID")
	}
}

func checkCSPSafe(t *testing.T, out string) {
	t.Helper()
	// Images may only come from Gatehouse itself (the TOTP QR code).
	lower := strings.ReplaceAll(strings.ToLower(out), `<img src="/auth/`, "")
	// The one script is the passkey ceremony's file, never inline code.
	lower = strings.ReplaceAll(lower, `<script src="/auth/static/passkey.js"></script>`, "")
	for _, bad := range []string{"<script", " style=", "<style", "javascript:", "http://", "https://", "<img"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains forbidden %q", bad)
		}
	}
}

// checkForms requires every form to POST to a path under Base.
func checkForms(t *testing.T, out string) {
	t.Helper()
	for _, part := range strings.Split(out, "<form")[1:] {
		tag, _, _ := strings.Cut(part, ">")
		if !strings.Contains(tag, `method="post"`) || !strings.Contains(tag, `action="/auth/`) {
			t.Errorf("form is not a POST to Base: <form%s>", tag)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	css, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatalf("static/style.css not embedded: %v", err)
	}
	for _, s := range []string{"prefers-color-scheme: dark", "prefers-reduced-motion", ":focus-visible", "--primary"} {
		if !bytes.Contains(css, []byte(s)) {
			t.Errorf("style.css lacks %q", s)
		}
	}
	for _, bad := range []string{"@import", "url(http", "url(//"} {
		if bytes.Contains(css, []byte(bad)) {
			t.Errorf("style.css references external resource via %q", bad)
		}
	}
	pages, err := fs.Glob(templates.FS, "pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"login", "signup", "account", "security", "logout", "error", "enroll", "challenge", "recovery", "totp", "totp-setup", "passkey", "passkey-enroll", "forgot", "reset", "verify-email"} {
		if !slices.Contains(pages, "pages/"+want+".html") {
			t.Errorf("pages = %v; %s is missing", pages, want)
		}
	}
}

func mfaData(step string) pageData {
	screen := "challenge"
	if step != "" {
		screen = "enroll"
	}
	return pageData{
		Title: "Check your phone", AppName: "Gatehouse", Screen: screen, Base: "/auth/",
		Step: step, MaskedPhone: "•••• 0123",
		Countries: []testCountry{{Code: "GB", Name: "United Kingdom", Dial: "+44", Selected: true}},
	}
}

// TestMFAFormsKeepReturnTo checks that every form on the MFA pages carries
// return_to when there is one, and none does when it is empty.
func TestMFAFormsKeepReturnTo(t *testing.T) {
	for _, tc := range []struct{ page, step string }{
		{"enroll", "phone"}, {"enroll", "code"}, {"challenge", ""}, {"recovery", ""},
	} {
		d := mfaData(tc.step)
		d.Screen = tc.page
		d.ResendIn = 10
		d.RecoveryCodes = []string{"AAAA-1111"}
		d.ReturnTo = "/authorize?client_id=abc"
		out := render(t, tc.page, d)
		forms := strings.Split(out, "<form")[1:]
		if len(forms) == 0 {
			t.Errorf("%s %s: no form", tc.page, tc.step)
		}
		for i, f := range forms {
			f, _, _ = strings.Cut(f, "</form>")
			if !strings.Contains(f, `<input type="hidden" name="return_to" value="/authorize?client_id=abc">`) {
				t.Errorf("%s %s: form %d lacks return_to", tc.page, tc.step, i)
			}
		}
		d.ReturnTo = ""
		out = render(t, tc.page, d)
		if strings.Contains(out, "return_to") {
			t.Errorf("%s %s: return_to rendered although empty", tc.page, tc.step)
		}
		if tc.page == "enroll" && tc.step == "code" && !strings.Contains(out, `href="/auth/mfa/enroll">Use a different number</a>`) {
			t.Errorf("enroll code: bare 'Use a different number' link missing")
		}
	}
}

// TestResendReveal checks how .ResendIn picks the reveal class: rounded up to
// the next of 5..30; no countdown at 0; no self-enabling button above 30.
func TestResendReveal(t *testing.T) {
	const (
		disabled = `<button type="submit" class="button button-secondary" disabled aria-describedby="resend-wait">Resend</button>`
		enabled  = `<button type="submit" class="button button-secondary">Resend</button>`
	)
	for _, tc := range []struct {
		in       int
		class    string // "" = no reveal wrapper
		wait     string // countdown text, "" = none
		enabled  bool
		disabled bool
	}{
		{0, "", "", true, false},
		{1, `class="reveal reveal-after-5"`, "in 1 second.", true, true},
		{5, `class="reveal reveal-after-5"`, "in 5 seconds.", true, true},
		{6, `class="reveal reveal-after-10"`, "in 6 seconds.", true, true},
		{12, `class="reveal reveal-after-15"`, "in 12 seconds.", true, true},
		{20, `class="reveal reveal-after-20"`, "in 20 seconds.", true, true},
		{21, `class="reveal reveal-after-25"`, "in 21 seconds.", true, true},
		{30, `class="reveal reveal-after-30"`, "in 30 seconds.", true, true},
		{45, `class="reveal"`, "in 45 seconds.", false, true},
	} {
		for _, step := range []string{"code", ""} { // enroll code step, challenge
			d := mfaData(step)
			d.ResendIn = tc.in
			out := render(t, d.Screen, d)
			if tc.class == "" && strings.Contains(out, "reveal") {
				t.Errorf("%s ResendIn=%d: reveal rendered", d.Screen, tc.in)
			}
			if tc.class != "" && !strings.Contains(out, tc.class+">") {
				t.Errorf("%s ResendIn=%d: lacks %s", d.Screen, tc.in, tc.class)
			}
			if tc.wait == "" && strings.Contains(out, "You can ask for a new code") {
				t.Errorf("%s ResendIn=%d: countdown shown", d.Screen, tc.in)
			}
			if tc.wait != "" && !strings.Contains(out, "You can ask for a new code "+tc.wait) {
				t.Errorf("%s ResendIn=%d: lacks countdown %q", d.Screen, tc.in, tc.wait)
			}
			if got := strings.Contains(out, enabled); got != tc.enabled {
				t.Errorf("%s ResendIn=%d: enabled Resend = %v, want %v", d.Screen, tc.in, got, tc.enabled)
			}
			if got := strings.Contains(out, disabled); got != tc.disabled {
				t.Errorf("%s ResendIn=%d: disabled Resend = %v, want %v", d.Screen, tc.in, got, tc.disabled)
			}
			checkCSPSafe(t, out)
		}
	}
}

func TestChallengeAttemptsLeft(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, ""}, {1, ">1 attempt left<"}, {4, ">4 attempts left<"}} {
		d := mfaData("")
		d.AttemptsLeft = tc.n
		out := render(t, "challenge", d)
		if tc.want == "" && strings.Contains(out, "left<") {
			t.Errorf("AttemptsLeft=0: attempts line shown")
		}
		if tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("AttemptsLeft=%d: lacks %q", tc.n, tc.want)
		}
		if got := strings.Contains(out, `aria-describedby="attempts-left"`); got != (tc.n > 0) {
			t.Errorf("AttemptsLeft=%d: aria-describedby present = %v", tc.n, got)
		}
	}
}

// TestRevealCSS checks style.css defines every class the "resend" template
// can emit, so a wait never leaves the enabled button hidden for good.
func TestRevealCSS(t *testing.T) {
	css, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		".reveal {", ".reveal-wait {", ".reveal-ready {",
		".reveal-after-5 {", ".reveal-after-10 {", ".reveal-after-15 {",
		".reveal-after-20 {", ".reveal-after-25 {", ".reveal-after-30 {",
		"@keyframes reveal-hide", "@keyframes reveal-show",
		".recovery-codes {",
	} {
		if !bytes.Contains(css, []byte(s)) {
			t.Errorf("style.css lacks %q", s)
		}
	}
}

func TestChallengeWithNoCodeOffersWhatStillWorks(t *testing.T) {
	d := mfaData("")
	d.NoCode, d.SendBlocked, d.HasTOTP, d.HasPasskey = true, true, true, true
	out := render(t, "challenge", d)
	for _, want := range []string{"•••• 0123", `<details class="disclosure" open>`, `href="/auth/mfa/totp`, `href="/auth/mfa/passkey`} {
		if !strings.Contains(out, want) {
			t.Errorf("no code and no sending: output lacks %q", want)
		}
	}
	for _, bad := range []string{`name="code"`, `value="resend"`, ">Resend<"} {
		if strings.Contains(out, bad) {
			t.Errorf("no code and no sending: output has %q", bad)
		}
	}
	d.SendBlocked = false
	if out := render(t, "challenge", d); !strings.Contains(out, ">Send a new code</button>") || strings.Contains(out, `name="code"`) {
		t.Error("an ended challenge must offer a new code and no code field")
	}
}

func TestRecoveryCodesNeverBreak(t *testing.T) {
	css, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(css, []byte(".recovery-codes li { white-space: nowrap;")) || bytes.Contains(css, []byte("break-all")) {
		t.Error("style.css lets a recovery code break")
	}
	d := mfaData("")
	d.RecoveryCodes = []string{"AAAA-BBBB-CCCC", "DDDD-EEEE-FFFF"}
	d.RecoveryFile = template.URL("data:text/plain;charset=utf-8,AAAA-BBBB-CCCC%0D%0ADDDD-EEEE-FFFF%0D%0A")
	d.RecoveryMAC = "mac"
	out := render(t, "recovery", d)
	for _, want := range []string{
		`href="data:text/plain;charset=utf-8,AAAA-BBBB-CCCC%0D%0ADDDD-EEEE-FFFF%0D%0A" download="recovery-codes.txt"`,
		`<input type="hidden" name="code" value="AAAA-BBBB-CCCC">`, `name="codes_mac" value="mac"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("recovery page lacks %q", want)
		}
	}
	checkCSPSafe(t, out)
}

func TestAccountOffersVerificationOnlyAsItIs(t *testing.T) {
	d := pageData{Base: "/auth/", User: &testUser{Email: "ann@example.com"}, SendsVerification: true}
	if out := render(t, "account", d); !strings.Contains(out, "Send a verification email") || strings.Contains(out, "We sent you a link") {
		t.Error("an address no link was sent to: the page must offer to send one, and not claim it did")
	}
	d.VerificationSent = true
	if out := render(t, "account", d); !strings.Contains(out, "We sent you a link") {
		t.Error("an address a link was sent to: the page does not say so")
	}
	d.SendsVerification = false
	if out := render(t, "account", d); strings.Contains(out, "verification email") {
		t.Error("a server that sends no mail offers a verification email")
	}
}

func TestAdminTablesAndToolbarsCSS(t *testing.T) {
	css, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(css), "\n") {
		if strings.HasPrefix(line, ".code {") && (strings.Contains(line, "anywhere") || strings.Contains(line, "break-all")) {
			t.Errorf("table tokens may break anywhere: %s", line)
		}
	}
	// A section's last field keeps room below it; in a toolbar that pushed
	// the field up from the button beside it.
	if !bytes.Contains(css, []byte(".toolbar .field, .toolbar .field:last-of-type { margin-bottom: 0; }")) {
		t.Error("a toolbar's last field may sit above its button")
	}
	admin, err := fs.ReadFile(templates.FS, "admin.html")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(admin, []byte(`<td class="code nowrap">{{.IP}}</td>`)) {
		t.Error("an IP address may break in the logs")
	}
}

// The passkey script may run no inline code, so every form it drives carries
// the script's messages, in the page's language, as data attributes.
func TestPasskeyFormsCarryTheScriptsMessagesInThePagesLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	fr := cat.Localizer(language.French)
	want := []string{
		`data-msg-cancelled="La demande de clé d’accès a été annulée ou a expiré. Réessayez."`,
		`data-msg-registered="Cette clé d’accès est déjà enregistrée sur votre compte."`,
		`data-msg-failed="Votre navigateur n’a pas pu utiliser de clé d’accès ici. Réessayez ou utilisez un autre moyen."`,
		`data-msg-unsupported="Ce navigateur ne peut pas utiliser de clés d’accès."`,
	}
	for _, page := range []string{"login", "passkey", "passkey-enroll", "reset"} {
		t.Run(page, func(t *testing.T) {
			d := pageData{AppName: "Gatehouse", Screen: page, Base: "/auth/", Step: "passkey",
				Passkey: &testCeremony{Mode: "get", Ceremony: "c1", Options: "{}", OptionsURL: "/auth/login/passkey/options"}}
			out := renderIn(t, fr, page, d)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("%s lacks %s", page, w)
				}
			}
		})
	}
}
