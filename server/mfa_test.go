package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

const (
	plivoID    = "MAFAKEAUTHID"
	plivoToken = "fake-auth-token"
	mobile     = "+447911123456"
)

// withPlivo gives the harness SMS MFA: the real plivo-go SDK against a fake
// Plivo on loopback, through the real outbox.
func (h *harness) withPlivo(t testing.TB, deps *server.Deps, issuer *url.URL, rules mfa.Rules) {
	h.plivo = plivotest.New(t, plivoID, plivoToken)
	sender, err := sms.NewPlivo(sms.PlivoConfig{AuthID: plivoID, AuthToken: plivoToken, Src: "+14155550100",
		APIURL: h.plivo.URL(), StatusURL: issuer.String() + "hooks/plivo/status", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	vault, err := mfa.NewPhoneVault(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := outbox.NewSealer(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	box := outbox.New(h.st, sealer, h.clock.Now)
	totpVault, err := mfa.NewTOTPVault(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	deps.MFA = mfa.NewService(mfa.Deps{Store: h.st, Outbox: testOutbox{box}, Audit: h.st,
		Codes: mfa.NewCodeHasher(testMasterKey), Vault: vault, TOTP: totpVault, Rules: rules, Tune: h.settings.Tune, Now: h.clock.Now,
		Wording: catalog.SMSWording})
	deps.SMS = sms.NewSwitch(func(context.Context) (sms.Choice, error) { return sms.Choice{}, nil }, sender, nil)
	h.mfaSvc = deps.MFA
	h.dispatcher = outbox.NewDispatcher(box, h.st, deps.SMS, outbox.DispatcherOptions{Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
}

type testOutbox struct{ box *outbox.Outbox }

func (o testOutbox) Enqueue(ctx context.Context, m mfa.OutboxMessage) error {
	_, err := o.box.Enqueue(ctx, outbox.Enqueued{ChallengeID: m.ChallengeID, UserID: m.UserID, Purpose: m.Purpose,
		CountryCode: m.CountryCode, ExpiresAt: m.ExpiresAt,
		Message: sms.Message{To: m.To, Text: m.Text, Code: m.Code, Purpose: m.Purpose}})
	return err
}

// sendSMS runs the dispatcher once and returns the code of the newest message.
func (h *harness) sendSMS(t testing.TB) string {
	t.Helper()
	before := len(h.plivo.Messages())
	if _, err := h.dispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.plivo.Messages()) != before+1 {
		t.Fatalf("Plivo received %d new messages, want 1", len(h.plivo.Messages())-before)
	}
	return h.plivo.LastCode()
}

func (h *harness) setPolicy(t testing.TB, p mfa.Policy) {
	if err := h.st.SetSetting(context.Background(), mfa.PolicySettingKey, string(p), "test"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second) // past the policy cache
}

// enroll takes a signed-in browser through phone enrollment.
func (h *harness) enroll(t *testing.T, b *http.Client, returnTo string) []string {
	t.Helper()
	form := url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}}
	if returnTo != "" {
		form.Set("return_to", returnTo)
	}
	h.do(b, "POST", "/mfa/enroll", form).expect(t, http.StatusSeeOther, "")
	code := h.sendSMS(t)
	msg := h.plivo.Messages()[len(h.plivo.Messages())-1]
	if msg.Dst != strings.TrimPrefix(mobile, "+") && msg.Dst != mobile {
		t.Fatalf("SMS to %q, want %s", msg.Dst, mobile)
	}
	if !strings.HasSuffix(msg.Text, "\n@127.0.0.1 #"+code) {
		t.Fatalf("SMS text %q lacks the WebOTP line", msg.Text)
	}
	codeForm := url.Values{"step": {"code"}, "code": {code}, "return_to": {returnTo}}
	rec := h.do(b, "POST", "/mfa/enroll", codeForm)
	rec.expect(t, 200, "recovery")
	codes := shownCodes(rec.body)
	if len(codes) != 10 {
		t.Fatalf("recovery page shows %d codes, want 10", len(codes))
	}
	return codes
}

// recoveryCodeRE is a recovery code as the page lists it.
var recoveryCodeRE = regexp.MustCompile(`<li>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</li>`)

func shownCodes(body string) []string {
	var codes []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	return codes
}

func TestAlwaysPolicyEnrollsThenChallengesWithPlivo(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)

	h.do(b, "GET", "/account", nil).expectRedirect(t, "/mfa/enroll?return_to=%2Faccount")
	h.do(b, "GET", "/mfa/enroll?return_to=%2Faccount", nil).expect(t, 200, "enroll")
	h.enroll(t, b, "/account")
	h.do(b, "POST", "/mfa/recovery", url.Values{"saved": {"1"}, "return_to": {"/account"}}).expectRedirect(t, "/account")
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")

	// A new browser logs in through the OAuth flow and must pass the challenge.
	b2 := h.browser()
	f := newFlow()
	toLogin := h.do(b2, "GET", p.authURL(f), nil)
	loc, err := url.Parse(toLogin.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resume := loc.Query().Get("return_to")
	h.do(b2, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {resume}}).
		expectRedirect(t, resume)
	toMFA := h.do(b2, "GET", resume, nil)
	if !strings.HasPrefix(toMFA.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("after the password: %d to %q, want the challenge", toMFA.status, toMFA.header.Get("Location"))
	}
	page := h.do(b2, "GET", toMFA.header.Get("Location"), nil)
	page.expect(t, 200, "challenge")
	if !strings.Contains(page.body, "•••• 3456") || !strings.Contains(page.body, `autocomplete="one-time-code"`) {
		t.Fatal("challenge page lacks the masked number or the one-time-code field")
	}
	code := h.sendSMS(t)
	h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "return_to": {resume}}).expectRedirect(t, resume)
	q := callback(t, h.do(b2, "GET", resume, nil))
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	if err := p.verifyIDToken(t, tok).Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if strings.Join(claims.AMR, ",") != "pwd,sms,mfa" || claims.ACR != "http://schemas.openid.net/pape/policies/2007/06/multi-factor" {
		t.Fatalf("amr %v acr %q", claims.AMR, claims.ACR)
	}

	// The code cannot be used again, even by the same browser.
	r := h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}})
	if r.status == http.StatusSeeOther && r.header.Get("Location") != "/mfa/challenge" {
		t.Fatalf("replayed code: %d to %q", r.status, r.header.Get("Location"))
	}
}

func TestWrongCodesEndTheChallenge(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, b, "")
	b2 := h.browser()
	h.logIn(b2, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	h.do(b2, "GET", "/mfa/challenge", nil).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 4 {
		r := h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {wrong}})
		r.expect(t, http.StatusBadRequest, "challenge")
		if !strings.Contains(r.alert(), "not right") || !strings.Contains(r.body, strconv.Itoa(4-i)+" attempt") {
			t.Fatalf("wrong code %d: alert %q", i+1, r.alert())
		}
	}
	r := h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {wrong}})
	if !strings.Contains(r.alert(), "Too many wrong codes") {
		t.Fatalf("fifth wrong code: %d alert %q", r.status, r.alert())
	}
	r = h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}})
	if r.status == http.StatusSeeOther && r.header.Get("Location") == "/account" {
		t.Fatal("the right code passed a challenge that had ended")
	}
}

func TestEnrollmentRefusesNumbersThatCannotTakeSMS(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	for _, tc := range []struct{ name, country, phone string }{
		{"premium rate", "GB", "09098790000"},
		{"toll free", "US", "+1 800 555 0199"},
		{"not a number", "GB", "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {tc.country}, "phone": {tc.phone}})
			r.expect(t, http.StatusBadRequest, "enroll")
			if r.alert() == "" || !strings.Contains(r.body, strings.TrimPrefix(tc.phone, "+1 ")) {
				t.Fatalf("alert %q; the form must keep what was typed", r.alert())
			}
		})
	}
	if n := len(h.plivo.Messages()); n != 0 {
		t.Fatalf("%d SMS sent for refused numbers", n)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	codes := h.enroll(t, b, "")
	for i, want := range []int{http.StatusSeeOther, http.StatusBadRequest} {
		b2 := h.browser()
		h.logIn(b2, "ann@example.com", goodPassword)
		r := h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"recovery"}, "recovery_code": {codes[0]}})
		if r.status != want {
			t.Fatalf("use %d of the recovery code: %d (alert %q), want %d", i+1, r.status, r.alert(), want)
		}
	}
}

func TestPlivoDeliveryReportsNeedAValidSignature(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}})
	h.sendSMS(t)
	uuid := h.plivo.Messages()[0].UUID
	if err := h.plivo.DeliverReport(context.Background(), uuid, "delivered", ""); err != nil {
		t.Fatalf("signed report refused: %v", err)
	}
	var status string
	if err := h.st.Pool().QueryRow(context.Background(), `select status from sms_outbox where provider_message_id = $1`, uuid).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "delivered" {
		t.Fatalf("outbox row status %q after the report, want delivered", status)
	}
	forged := h.do(http.DefaultClient, "POST", "/hooks/plivo/status", url.Values{"MessageUUID": {uuid}, "Status": {"failed"}},
		"X-Plivo-Signature-V2", "Zm9yZ2Vk", "X-Plivo-Signature-V2-Nonce", "12345")
	if forged.status != http.StatusForbidden {
		t.Fatalf("forged report: %d, want 403", forged.status)
	}
	unsigned := h.do(http.DefaultClient, "POST", "/hooks/plivo/status", url.Values{"MessageUUID": {uuid}, "Status": {"failed"}})
	if unsigned.status != http.StatusForbidden {
		t.Fatalf("unsigned report: %d, want 403", unsigned.status)
	}
}

func TestNeverPolicyAsksForNoSecondFactor(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
}

func TestPlivoOutageDelaysTheCodeButLosesNothing(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.plivo.FailNext(3, http.StatusInternalServerError)
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}}).expect(t, http.StatusSeeOther, "")
	for range 3 {
		if _, err := h.dispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(10 * time.Second) // past the backoff
	}
	if n := len(h.plivo.Messages()); n != 0 {
		t.Fatalf("%d messages accepted while Plivo failed", n)
	}
	code := h.sendSMS(t)
	if _, err := h.dispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.plivo.Messages()); n != 1 {
		t.Fatalf("Plivo accepted %d messages, want exactly 1", n)
	}
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}}).expect(t, 200, "recovery")
	var events int
	if err := h.st.Pool().QueryRow(context.Background(), `select count(*) from audit_log where event = 'mfa.enrolled'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Fatalf("mfa.enrolled audited %d times", events)
	}
}

// loginThroughChallenge logs a new browser in through the OAuth flow up to the
// point where the dispatcher decides on MFA, and returns where it sent it.
func (h *harness) authorizeAfterPassword(t *testing.T, p *rp, b *http.Client, opts ...oauth2.AuthCodeOption) (response, string) {
	t.Helper()
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f, opts...), nil)
	if loc, err := url.Parse(r.header.Get("Location")); err != nil || loc != nil && loc.Path == "/login" {
		resume := loc.Query().Get("return_to")
		h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {resume}}).
			expectRedirect(t, resume)
		return h.do(b, "GET", resume, nil), resume
	}
	return r, ""
}

func TestStepUpChallengesEvenUnderTheNeverPolicy(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
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
	h.setPolicy(t, mfa.PolicyNever)

	plain, _ := h.authorizeAfterPassword(t, p, b)
	if q := callback(t, plain); q.Get("code") == "" {
		t.Fatalf("without step-up: %v, want a code at once", q)
	}
	stepUp := oauth2.SetAuthURLParam("acr_values", "http://schemas.openid.net/pape/policies/2007/06/multi-factor")
	r, _ := h.authorizeAfterPassword(t, p, b, stepUp)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("step-up on a pwd session: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
}

func TestRememberedBrowserSkipsTheChallenge(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, b, "")

	// A fresh login in the same browser (so it keeps its cookies), ticking "remember".
	h.loginRemembering(t, b)

	h.do(b, "POST", "/logout", url.Values{})
	r, _ := h.authorizeAfterPassword(t, p, b)
	if q := callback(t, r); q.Get("code") == "" {
		t.Fatalf("remembered browser: %v, want a code without a challenge", q)
	}
	stepUp := oauth2.SetAuthURLParam("acr_values", "http://schemas.openid.net/pape/policies/2007/06/multi-factor")
	h.do(b, "POST", "/logout", url.Values{})
	r, _ = h.authorizeAfterPassword(t, p, b, stepUp)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("step-up on a remembered browser: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}

	// Another browser is not remembered; a new phone forgets them all.
	other := h.browser()
	r, _ = h.authorizeAfterPassword(t, p, other)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("another browser: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	phone, err := mfa.ParsePhone("+447911123457", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(context.Background(), u.ID, phone); err != nil {
		t.Fatal(err)
	}
	h.do(b, "POST", "/logout", url.Values{})
	r, _ = h.authorizeAfterPassword(t, p, b)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("after a phone change: %d to %q, want the challenge again", r.status, r.header.Get("Location"))
	}
}

func TestAPasswordChangeForgetsRememberedBrowsers(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, b, "")
	h.loginRemembering(t, b)
	h.do(b, "POST", "/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"a brand new phrase"}}).
		expect(t, 200, "account")
	h.do(b, "POST", "/logout", url.Values{})
	h.logIn(b, "ann@example.com", "a brand new phrase")
	if r := h.do(b, "GET", "/account", nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("after a password change: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
}

func TestAnApplicationsPolicyOverridesTheTenants(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
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
	setApp := func(policy string) {
		c, err := h.st.ClientByID(context.Background(), spaID)
		if err != nil {
			t.Fatal(err)
		}
		c.MFAPolicy = policy
		if err := h.st.UpdateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		tenant    mfa.Policy
		app       string
		challenge bool
	}{
		{mfa.PolicyNever, "always", true},
		{mfa.PolicyAlways, "never", false},
		{mfa.PolicyAlways, "", true},
		{mfa.PolicyNever, "", false},
	} {
		h.setPolicy(t, tc.tenant)
		setApp(tc.app)
		r, _ := h.authorizeAfterPassword(t, p, b)
		challenged := strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?")
		if challenged != tc.challenge {
			t.Fatalf("tenant %s, app %q: %d to %q, want challenge=%v", tc.tenant, tc.app, r.status, r.header.Get("Location"), tc.challenge)
		}
	}
}

func TestForgettingARememberedBrowserOnTheSecurityPage(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, b, "")
	h.loginRemembering(t, b)
	page := h.do(b, "GET", "/account/security", nil)
	m := regexp.MustCompile(`account/browsers/forget">\s*<input type="hidden" name="id" value="([^"]+)"`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, "Remembered browsers") {
		t.Fatalf("security page lists no remembered browser:\n%s", page.body)
	}
	h.do(b, "POST", "/account/browsers/forget", url.Values{"id": {m[1]}}).expectRedirect(t, "/account/security?done=browser-forgotten")
	h.do(b, "POST", "/logout", url.Values{})
	h.logIn(b, "ann@example.com", goodPassword)
	if r := h.do(b, "GET", "/account", nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("forgotten browser: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
}

func TestAPolicyChangeReachesEveryReplicaWithinTwoSeconds(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	one := newHarness(t, func(o *options) { o.plivo, o.dbURL = true, dbURL })
	two := newHarness(t, func(o *options) { o.plivo, o.dbURL = true, dbURL })
	b := two.browser()
	two.signUp(b, "ann@example.com").expectRedirect(t, "/account")
	two.do(b, "GET", "/account", nil).expect(t, 200, "account")

	one.setPolicy(t, mfa.PolicyAlways)
	two.clock.Advance(2 * time.Second)
	if r := two.do(b, "GET", "/account", nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/enroll?") {
		t.Fatalf("the other replica 2 s after the change: %d to %q, want MFA enrollment", r.status, r.header.Get("Location"))
	}
}

// loginRemembering logs browser b in afresh and passes the SMS challenge with
// "remember this browser" ticked.
func (h *harness) loginRemembering(t *testing.T, b *http.Client) {
	t.Helper()
	h.do(b, "POST", "/logout", url.Values{})
	h.logIn(b, "ann@example.com", goodPassword)
	h.do(b, "GET", "/mfa/challenge", nil).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "remember": {"1"}}).expectRedirect(t, "/account")
}
