package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestAWrongEnrollmentCodeKeepsTheNumberAndTheCountdown(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}}).expect(t, http.StatusSeeOther, "")
	code := h.sendSMS(t)
	r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {wrongCode(code)}})
	r.expect(t, http.StatusBadRequest, "enroll")
	if !strings.Contains(r.body, "We sent a 6-digit code to <span class=\"nowrap\">•••• 3456</span>") {
		t.Error("after a wrong code the page no longer names the number")
	}
	if !strings.Contains(r.body, "You can ask for a new code in 30 seconds") {
		t.Error("after a wrong code the resend countdown is gone")
	}
	if !strings.Contains(r.body, "4 attempts left") {
		t.Error("the attempts left are not shown")
	}
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestAnEndedChallengeWaitsToBeAskedAndTheSendLimitSaysWhen(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, b, "") // the first of three codes per 10 minutes to the number

	b2 := h.browser()
	h.logIn(b2, "ann@example.com", goodPassword)
	h.do(b2, "GET", "/mfa/challenge", nil).expect(t, 200, "challenge")
	code := h.sendSMS(t) // the second
	for range 5 {
		h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {wrongCode(code)}})
	}
	sent := len(h.plivo.Messages())
	for name, r := range map[string]response{
		"another code": h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}}),
		"the page":     h.do(b2, "GET", "/mfa/challenge", nil),
	} {
		if r.screen() != "challenge" || !strings.Contains(r.alert(), "Too many wrong codes") {
			t.Fatalf("%s after the last wrong code: %d on %q, alert %q", name, r.status, r.screen(), r.alert())
		}
		if strings.Contains(r.body, `name="code"`) || !strings.Contains(r.body, "Send a new code") ||
			!strings.Contains(r.body, "•••• 3456") || !strings.Contains(r.body, `<details class="disclosure" open>`) {
			t.Errorf("%s: the page must offer a new code and the recovery code, not a code field:\n%s", name, r.body)
		}
	}
	dispatch(t, h)
	if n := len(h.plivo.Messages()); n != sent {
		t.Fatalf("%d codes texted that nobody asked for", n-sent)
	}
	h.do(b2, "POST", "/mfa/challenge", url.Values{"step": {"resend"}}).expectRedirect(t, "/mfa/challenge")
	h.sendSMS(t) // the third, asked for

	b3 := h.browser()
	h.logIn(b3, "ann@example.com", goodPassword)
	r := h.do(b3, "GET", "/mfa/challenge", nil)
	r.expect(t, http.StatusTooManyRequests, "challenge")
	if !strings.Contains(r.alert(), "You can ask for a new code in ") || !strings.Contains(r.alert(), "minute") {
		t.Errorf("the limit does not say when to try again: %q", r.alert())
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if !strings.Contains(r.body, "•••• 3456") {
		t.Error("the number is blank")
	}
	if strings.Contains(r.body, `value="resend"`) || strings.Contains(r.body, `name="code"`) {
		t.Error("the page offers a code field or a Resend button that cannot work")
	}
	if !strings.Contains(r.body, `<details class="disclosure" open>`) || !strings.Contains(r.body, `name="recovery_code"`) {
		t.Error("the recovery code is not offered")
	}
	h.clock.Advance(10 * time.Minute)
	h.do(b3, "GET", "/mfa/challenge", nil).expect(t, 200, "challenge")
}

// dispatch runs the outbox once, whether or not it has anything to send.
func dispatch(t *testing.T, h *harness) {
	t.Helper()
	if _, err := h.dispatcher.RunOnce(withContext()); err != nil {
		t.Fatal(err)
	}
}

func TestCodesAreTakenWithSpacesAndDashes(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	codes := h.enroll(t, b, "")
	spaced := func(c string) string { return c[:3] + " " + c[3:] }

	sms := h.browser()
	h.logIn(sms, "ann@example.com", goodPassword)
	h.do(sms, "GET", "/mfa/challenge", nil)
	h.do(sms, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {spaced(h.sendSMS(t))}}).expectRedirect(t, "/account")

	recovery := h.browser()
	h.logIn(recovery, "ann@example.com", goodPassword)
	typed := strings.ToLower(strings.ReplaceAll(codes[1], "-", " - "))
	h.do(recovery, "POST", "/mfa/challenge", url.Values{"step": {"recovery"}, "recovery_code": {typed}}).expectRedirect(t, "/account")

	h.do(b, "POST", "/mfa/recovery", url.Values{"saved": {"1"}}).expectRedirect(t, "/account")
	secret := h.setUpApp(t, b)
	h.clock.Advance(time.Minute)
	app := h.browser()
	h.logIn(app, "ann@example.com", goodPassword)
	c := totpCode(t, secret, h.clock.Now())
	h.do(app, "POST", "/mfa/totp", url.Values{"step": {"code"}, "code": {c[:3] + "-" + c[3:]}}).expectRedirect(t, "/account")
}

func TestRecoveryCodesMustBeConfirmedAndCanBeDownloaded(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}})
	page := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {h.sendSMS(t)}, "return_to": {"/account"}})
	page.expect(t, 200, "recovery")
	codes := shownCodes(page.body)

	file := "data:text/plain;charset=utf-8," + url.PathEscape(strings.Join(codes, "\r\n")+"\r\n")
	if !strings.Contains(page.body, `href="`+file+`" download="recovery-codes.txt"`) {
		t.Errorf("no download link of the codes, one a line:\n%s", page.body)
	}

	form := url.Values{"return_to": {"/account"}, "code": codes, "codes_mac": {macRE.FindStringSubmatch(page.body)[1]}}
	again := h.do(b, "POST", "/mfa/recovery", form)
	again.expect(t, http.StatusBadRequest, "recovery")
	if !strings.Contains(again.alert(), "tick") || strings.Join(shownCodes(again.body), " ") != strings.Join(codes, " ") {
		t.Fatalf("unconfirmed: alert %q; the same codes must be shown again", again.alert())
	}

	forged := url.Values{"code": {"AAAA-BBBB-CCCC"}, "codes_mac": form["codes_mac"]}
	if r := h.do(b, "POST", "/mfa/recovery", forged); r.status != http.StatusBadRequest || strings.Contains(r.body, "AAAA-BBBB-CCCC") {
		t.Fatalf("codes the server did not issue: %d, shown %v", r.status, strings.Contains(r.body, "AAAA-BBBB-CCCC"))
	}
	other := h.browser()
	h.logIn(other, "ann@example.com", goodPassword)
	if r := h.do(other, "POST", "/mfa/recovery", form); strings.Contains(r.body, codes[0]) {
		t.Fatal("another session was shown the codes")
	}

	form.Set("saved", "1")
	h.do(b, "POST", "/mfa/recovery", form).expectRedirect(t, "/account")
}

var macRE = regexp.MustCompile(`name="codes_mac" value="([^"]+)"`)

func TestTheAccountPageSaysALinkWasSentOnlyWhenOneWas(t *testing.T) {
	h := newHarness(t, withMail)
	if _, err := h.accounts.CreateUser(withContext(), "cli@example.com", "", goodPassword, false, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	h.logIn(b, "cli@example.com", goodPassword).expectRedirect(t, "/account")
	page := h.do(b, "GET", "/account", nil)
	if strings.Contains(page.body, "We sent you a link") || !strings.Contains(page.body, "Send a verification email") {
		t.Fatal("a user created without a link is told one was sent")
	}
	h.do(b, "POST", "/account/email/verify", url.Values{}).expect(t, 200, "account")
	h.sendMail(t, "cli@example.com")
	if page := h.do(b, "GET", "/account", nil); !strings.Contains(page.body, "We sent you a link") {
		t.Fatal("after the link was sent the page does not say so")
	}

	noMail := newHarness(t)
	c := signedInBrowser(t, noMail)
	if page := noMail.do(c, "GET", "/account", nil); strings.Contains(page.body, "verification email") || strings.Contains(page.body, "We sent you a link") {
		t.Fatal("a server that sends no mail offers or claims a verification link")
	}
	noMail.do(c, "POST", "/account/email/verify", url.Values{}).expect(t, http.StatusConflict, "account")
}

func TestARefusedLogoutSaysWhyInASentence(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	b := signedInBrowser(t, h)
	for path, want := range map[string]string{
		"/v2/logout?client_id=" + spaID + "&returnTo=" + url.QueryEscape("http://evil.example/"): "The application asked to send you back to an address that is not one of its allowed logout URLs. You have not been logged out.",
		"/v2/logout?client_id=nobody": "The logout link names an application this server does not know. You have not been logged out.",
		"/oidc/logout?post_logout_redirect_uri=" + url.QueryEscape(spaOrigin+"/"): "The logout link asks to send you back to an address without saying which application it comes from. You have not been logged out.",
	} {
		r := h.do(b, "GET", path, nil)
		r.expect(t, http.StatusBadRequest, "error")
		if !strings.Contains(r.body, `<p class="message">`+want+`</p>`) {
			t.Errorf("%s: the page does not say %q:\n%s", path, want, r.body)
		}
	}
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
}

func TestARefusedMFAFormKeepsWhatTheAdminSentAndListsTheFieldsAtTheTop(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"always"},
		"confirm_always": {"1"}, "mfa_remember_days": {"30 days"}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	for _, want := range []string{
		`id="mfa_remember_days" name="mfa_remember_days" type="text" value="30 days" inputmode="numeric"`,
		`name="confirm_always" type="checkbox" value="1" checked>`,
		`value="always" checked`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused form lost what the admin sent: no %q", want)
		}
	}
	alert := r.body[strings.Index(r.body, `role="alert"`):]
	alert = alert[:strings.Index(alert, "</div>")]
	if !strings.Contains(alert, `<a href="#mfa_remember_days">Remember browser for (days)</a>: must be a whole number`) {
		t.Errorf("the summary at the top does not link to the field:\n%s", alert)
	}

	r = h.adminPost(t, admin, "/admin/mfa", "/admin/mfa/test", url.Values{"phone": {"not a number"}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	if !strings.Contains(r.body, `<a href="#phone">Send a test message to</a>`) || !strings.Contains(r.body, `value="not a number"`) {
		t.Error("a refused test message is not listed at the top with the number kept")
	}
}
