package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
)

func htmlLang(body string) string {
	i := strings.Index(body, `<html lang="`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`<html lang="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// ui_locales on /authorize chooses the language of every screen of that
// login, above the browser's Accept-Language, and the code's text message
// is in it too, with the WebOTP line unchanged.
func TestUILocalesSpeaksThroughTheWholeLoginAndItsSMS(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	signedInBrowser(t, h)
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	phone, err := mfa.ParsePhone(mobile, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(context.Background(), u.ID, phone); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyAlways)

	b := h.browser()
	r := h.do(b, "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("ui_locales", "fr-CA en")), nil, "Accept-Language", "de")
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || loc.Path != "/login" {
		t.Fatalf("authorize sent the browser to %q", r.header.Get("Location"))
	}
	login := h.do(b, "GET", loc.RequestURI(), nil, "Accept-Language", "de")
	login.expect(t, http.StatusOK, "login")
	if htmlLang(login.body) != "fr" || !strings.Contains(login.body, "Connexion") || strings.Contains(login.body, ">Log in<") {
		t.Fatalf("login page in %q, want French", htmlLang(login.body))
	}
	resume := loc.Query().Get("return_to")
	bad := h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {"wrong password here"}, "return_to": {resume}},
		"Accept-Language", "de")
	if bad.alert() != "E-mail ou mot de passe incorrect." {
		t.Fatalf("refusal %q, want it in French", bad.alert())
	}
	h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {resume}}).
		expectRedirect(t, resume)
	step := h.do(b, "GET", resume, nil)
	next, err := url.Parse(step.header.Get("Location"))
	if err != nil || next.Path != "/mfa/challenge" {
		t.Fatalf("after the password the dispatcher sent the browser to %q", step.header.Get("Location"))
	}
	challenge := h.do(b, "GET", next.RequestURI(), nil)
	challenge.expect(t, http.StatusOK, "challenge")
	if htmlLang(challenge.body) != "fr" || !strings.Contains(challenge.body, "Consultez votre téléphone") {
		t.Fatalf("challenge page in %q, want French", htmlLang(challenge.body))
	}
	code := h.sendSMS(t)
	text := h.plivo.Messages()[len(h.plivo.Messages())-1].Text
	if text != "Votre code de vérification Gatehouse est "+code+"\n\n@127.0.0.1 #"+code {
		t.Fatalf("SMS %q, want the French wording and the WebOTP line", text)
	}
}

func TestPagesFollowAcceptLanguageThenTheTenantDefault(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	tests := []struct {
		name, accept, wantLang, wantText string
	}{
		{"no preference: English", "", "en", "Log in"},
		{"German browser", "de-AT,de;q=0.9,en;q=0.5", "de", "Anmelden"},
		{"Arabic browser gets a right-to-left page", "ar", "ar", `dir="rtl"`},
		{"Brazilian Portuguese from plain pt", "pt", "pt-BR", "Entrar"},
		{"an unshipped language: English", "ja", "en", "Log in"},
		{"garbage header: English", ";;q=zz,,-", "en", "Log in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(b, "GET", "/login", nil, "Accept-Language", tt.accept)
			r.expect(t, http.StatusOK, "login")
			if htmlLang(r.body) != tt.wantLang || !strings.Contains(r.body, tt.wantText) {
				t.Fatalf("page in %q, want %q with %q", htmlLang(r.body), tt.wantLang, tt.wantText)
			}
		})
	}

	h.attackSetting(t, settings.KeyLanguageDefault, "es")
	h.attackSetting(t, settings.KeyLanguages, "es,fr")
	for accept, want := range map[string]string{"": "es", "ja": "es", "de": "es", "fr-BE": "fr"} {
		if got := htmlLang(h.do(b, "GET", "/login", nil, "Accept-Language", accept).body); got != want {
			t.Errorf("Accept-Language %q with Spanish default and es,fr enabled: page in %q, want %q", accept, got, want)
		}
	}
}

// The language a user picks on the account page is stored with the user,
// follows them to a new browser at login, and gives way to an
// application's ui_locales only for that application's login.
func TestTheAccountPageLanguageFollowsTheUser(t *testing.T) {
	h := newHarness(t)
	b := signedInBrowser(t, h)
	h.do(b, "POST", "/account/language", url.Values{"language": {"hi"}}).expectRedirect(t, "/account")
	if got := htmlLang(h.do(b, "GET", "/account", nil, "Accept-Language", "fr").body); got != "hi" {
		t.Fatalf("account page in %q after choosing Hindi", got)
	}
	other := h.browser()
	h.do(other, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}).expectRedirect(t, "/account")
	account := h.do(other, "GET", "/account", nil, "Accept-Language", "fr")
	if htmlLang(account.body) != "hi" || !strings.Contains(account.body, `<option value="hi" lang="hi" selected>`) {
		t.Fatalf("a new browser's account page in %q, want Hindi with Hindi selected", htmlLang(account.body))
	}

	p := h.newSPA(t)
	h.clock.Advance(2 * time.Second) // prompt=login then asks this session to log in again
	r := h.do(other, "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("ui_locales", "ar"), oauth2.SetAuthURLParam("prompt", "login")), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := htmlLang(h.do(other, "GET", loc.RequestURI(), nil).body); got != "ar" {
		t.Fatalf("the application's login in %q, want its ui_locales ar", got)
	}

	h.do(b, "POST", "/account/language", url.Values{"language": {""}}).expectRedirect(t, "/account")
	if got := htmlLang(h.do(b, "GET", "/account", nil, "Accept-Language", "fr").body); got != "fr" {
		t.Fatalf("after choosing automatic the page is in %q, want the browser's fr", got)
	}
}

func TestAttackLanguageChoiceRefusesWhatIsNotOffered(t *testing.T) {
	h := newHarness(t)
	b := signedInBrowser(t, h)
	h.attackSetting(t, settings.KeyLanguages, "en,fr")
	for name, value := range map[string]string{
		"unshipped language":     "ja",
		"shipped but disabled":   "de",
		"malformed":              "<script>",
		"oversized":              strings.Repeat("a", 5000),
		"header-splitting value": "fr\r\nSet-Cookie: x=y",
	} {
		t.Run(name, func(t *testing.T) {
			r := h.do(b, "POST", "/account/language", url.Values{"language": {value}})
			r.expect(t, http.StatusBadRequest, "account")
			if r.alert() != "Choose one of the languages in the list." {
				t.Fatalf("alert %q", r.alert())
			}
			if strings.Contains(r.header.Get("Set-Cookie"), "gatehouse_lang") {
				t.Fatal("a refused choice set the language cookie")
			}
		})
	}
	anon := h.browser()
	if r := h.do(anon, "POST", "/account/language", url.Values{"language": {"fr"}}); r.status != http.StatusSeeOther ||
		!strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("an anonymous choice got %d to %q, want the login page", r.status, r.header.Get("Location"))
	}
}

// ui_locales is the application's to set, so it reaches a cookie only as
// well-formed language tags, a bounded number of them.
func TestAttackUILocalesCannotSmuggleIntoTheCookieOrPage(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := h.browser()
	hostile := strings.Repeat("fr ", 500) + `"><script>alert(1)</script> x;y=z`
	r := h.do(b, "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("ui_locales", hostile)), nil)
	var cookie string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gatehouse_ui_locales=") {
			cookie = c
		}
	}
	value := strings.Trim(strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "gatehouse_ui_locales="), `"`)
	if value == "" || len(value) > 8*36 || strings.ContainsAny(value, `<>"`) {
		t.Fatalf("ui_locales cookie %q", value)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page := h.do(b, "GET", loc.RequestURI(), nil)
	if htmlLang(page.body) != "fr" || strings.Contains(page.body, "<script>alert") {
		t.Fatalf("login page in %q", htmlLang(page.body))
	}
}

// Admins choose the default and the enabled languages on the console's
// settings page; the admin console itself stays in English.
func TestAdminsChooseTheLanguagesInTheConsole(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa",
		url.Values{"section": {"languages"}, "language_default": {"fr"}, "languages_enabled": {"fr, de"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("saving languages got %d (alert %q)", r.status, r.alert())
	}
	h.clock.Advance(2 * time.Second) // past the settings cache
	visitor := h.browser()
	for accept, want := range map[string]string{"": "fr", "de": "de", "es": "fr"} {
		if got := htmlLang(h.do(visitor, "GET", "/login", nil, "Accept-Language", accept).body); got != want {
			t.Errorf("Accept-Language %q: page in %q, want %q", accept, got, want)
		}
	}
	if got := htmlLang(h.do(admin, "GET", "/admin/mfa", nil, "Accept-Language", "de").body); got != "en" {
		t.Errorf("the console is in %q, want English", got)
	}
	bad := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa",
		url.Values{"section": {"languages"}, "language_default": {"klingon"}, "languages_enabled": {"fr, xx"}})
	bad.expect(t, http.StatusBadRequest, "admin-mfa")
	for _, want := range []string{"choose one of en, ar, de, es, fr, hi, pt-BR", `\"xx\" is not a language Gatehouse speaks`} {
		if !strings.Contains(bad.body, strings.ReplaceAll(want, `\"`, "&#34;")) {
			t.Errorf("the refusal lacks %q", want)
		}
	}
}

// The enrollment's country and its example number follow the country the
// request comes from where GeoIP knows it, before the browser's language;
// the countries are named in the page's language.
func TestEnrollmentSuggestsTheRequestsCountry(t *testing.T) {
	challengeMedium := true
	h := newHarness(t, func(o *options) {
		o.plivo, o.adaptive = true, &challengeMedium
		o.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	b := signedInBrowser(t, h)
	tests := []struct {
		name, from, accept, country, example, named string
	}{
		{"located in Britain, French browser", "81.2.69.10", "fr-FR", "GB", "+44 7400 123456", "Royaume-Uni (&#43;44)"},
		{"located in the US", "216.160.83.10", "de-DE", "US", "+1 201-555-0123", "Vereinigte Staaten (&#43;1)"},
		{"unknown address: the browser's region", "192.0.2.1", "de-DE", "DE", "+49 1512 3456789", "Deutschland (&#43;49)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(b, "GET", "/mfa/enroll", nil, "X-Forwarded-For", tt.from, "Accept-Language", tt.accept)
			r.expect(t, http.StatusOK, "enroll")
			if !strings.Contains(r.body, `<option value="`+tt.country+`" selected>`+tt.named+`</option>`) {
				t.Errorf("%s is not the selected country, named %q in the page's language", tt.country, tt.named)
			}
			if !strings.Contains(r.body, tt.example) {
				t.Errorf("the hint lacks the example %q", tt.example)
			}
		})
	}
}

// A refused password is explained in the page's language; the password
// package only names the weakness.
func TestWeakPasswordOnSignupIsExplainedInThePagesLanguage(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, accept, password, alert string
	}{
		{"French, too short", "fr", "1234567", "Utilisez au moins 8 caractères."},
		{"French, too common", "fr", "password1", "Ce mot de passe est trop courant ; choisissez-en un autre."},
		{"Arabic, too short", "ar", "1234567", "استخدم 8 أحرف على الأقل."},
		{"Arabic, is the email address", "ar", "ann@example.com", "يجب ألا تكون كلمة المرور هي عنوان بريدك الإلكتروني."},
		{"English stays as it was", "en", "1234567", "Use at least 8 characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"email": {"ann@example.com"}, "password": {tt.password}}
			r := h.do(h.browser(), "POST", "/signup", form, "Accept-Language", tt.accept)
			r.expect(t, http.StatusBadRequest, "signup")
			if r.alert() != tt.alert {
				t.Fatalf("alert %q, want %q", r.alert(), tt.alert)
			}
		})
	}
}
