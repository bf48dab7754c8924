package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk/risktest"
	"github.com/gatehouse-id/gatehouse/settings"
)

// The attacks below each got past the second factor with a password alone
// before the assurance authority decided for every route.

const attackerMobile = "+447400999888"

// enrollPhone gives ann a verified phone on an operator's word.
func (h *harness) enrollPhone(t *testing.T, email string) {
	t.Helper()
	u, err := h.st.UserByEmail(context.Background(), email)
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
}

func (h *harness) phoneOf(t *testing.T, email string) string {
	t.Helper()
	u, err := h.st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	f, ok, err := h.mfaSvc.Factor(context.Background(), u.ID)
	if err != nil || !ok {
		t.Fatalf("no phone for %s: %v", email, err)
	}
	return f.Masked
}

// passChallenge passes the SMS challenge in browser b and follows it back
// to returnTo.
func (h *harness) passChallenge(t *testing.T, b *http.Client, returnTo string) {
	t.Helper()
	h.do(b, "GET", "/mfa/challenge?return_to="+url.QueryEscape(returnTo), nil).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "return_to": {returnTo}}).expectRedirect(t, returnTo)
}

func TestAPasswordAloneCannotReplaceAnEnrolledPhone(t *testing.T) {
	for _, policy := range []mfa.Policy{mfa.PolicyAlways, mfa.PolicyNever} {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t, func(o *options) { o.plivo = true })
			signedInBrowser(t, h)
			h.enrollPhone(t, "ann@example.com")
			h.setPolicy(t, policy)

			attacker := h.browser()
			h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")
			for _, step := range []url.Values{
				{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}},
				{"step": {"resend"}},
				{"step": {"code"}, "code": {"123456"}},
			} {
				r := h.do(attacker, "POST", "/mfa/enroll", step)
				if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
					t.Fatalf("step %s from a password-only session: %d to %q, want the challenge of the enrolled phone",
						step.Get("step"), r.status, r.header.Get("Location"))
				}
			}
			for _, m := range h.plivo.Messages() {
				if strings.HasSuffix(attackerMobile, m.Dst) {
					t.Fatal("a code was texted to the attacker's number")
				}
			}
			if got := h.phoneOf(t, "ann@example.com"); got != "•••• 3456" {
				t.Fatalf("the enrolled phone is now %s", got)
			}
		})
	}
}

func TestAPhoneIsReplacedOnlyAfterTheOldOnePassedRecently(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	h.do(b, "GET", "/mfa/enroll?change=1", nil).expectRedirect(t, "/mfa/challenge?return_to=%2Fmfa%2Fenroll%3Fchange%3D1&reauth=1")
	if page := h.do(b, "GET", "/mfa/challenge?return_to=%2Fmfa%2Fenroll%3Fchange%3D1&reauth=1", nil); !strings.Contains(page.body, "confirm it&#39;s you first") {
		t.Fatal("the challenge sudo mode asks for does not say why")
	}
	h.passChallenge(t, b, "/mfa/enroll?change=1")
	h.do(b, "GET", "/mfa/enroll?change=1", nil).expect(t, 200, "enroll")
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}}).
		expectRedirect(t, "/mfa/enroll")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}}).expect(t, 200, "recovery")
	if got := h.phoneOf(t, "ann@example.com"); got != "•••• 9888" {
		t.Fatalf("after a recent challenge the phone is %s, want the new one", got)
	}

	// Sudo mode lasts minutes, not the session's life.
	h.clock.Advance(20 * time.Minute)
	r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {mobile}})
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("20 minutes after the last challenge: %d to %q, want the challenge again", r.status, r.header.Get("Location"))
	}
}

func TestAPasswordAloneCannotAddOrRemoveAnAuthenticatorApp(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	victim := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	h.setPolicy(t, mfa.PolicyNever)

	// The victim sets up an app from a session that passed the phone.
	h.passChallenge(t, victim, "/account")
	h.setUpApp(t, victim)

	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	h.do(attacker, "GET", "/account", nil).expect(t, 200, "account") // the tenant's policy is never
	for _, req := range []struct{ method, path string }{
		{"GET", "/account/totp"},
		{"GET", "/account/totp/qr.png"},
		{"POST", "/account/totp"},
		{"POST", "/account/totp/remove"},
	} {
		r := h.do(attacker, req.method, req.path, url.Values{"code": {"123456"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/totp?") {
			t.Fatalf("%s %s from a password-only session: %d to %q, want the app's challenge", req.method, req.path, r.status, r.header.Get("Location"))
		}
	}
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if has, err := h.mfaSvc.HasTOTP(context.Background(), u.ID); err != nil || !has {
		t.Fatal("the password-only session removed the app")
	}
}

func TestAnApplicationsNeverLiftsNothingForOtherApplications(t *testing.T) {
	h, p := adaptiveHarness(t, true)
	never := *p
	never.cfg.ClientID = "never-app"
	err := h.st.CreateClient(context.Background(), clients.Client{ID: never.cfg.ClientID, Name: "Kiosk", Type: clients.SPA,
		Callbacks: []string{spaCallback}, WebOrigins: []string{spaOrigin}, MFAPolicy: "never"})
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	if h.loginFrom(t, &never, b, risktest.LondonIP) {
		t.Fatal("the application whose policy is never challenged")
	}
	// Same browser, same session: the tenant's adaptive policy still sees a
	// new device for every other application and for the account page.
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f), nil, "X-Forwarded-For", risktest.LondonIP)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("another application after a never-app login: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
	if r := h.do(b, "GET", "/account", nil, "X-Forwarded-For", risktest.LondonIP); !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("the account page after a never-app login: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
	// And a fresh login from the same browser is not from a known device.
	if !h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("the never-app login made the browser a known device")
	}
}

func TestPhoneMessageOffSendsNoTextOnAnyPath(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.mail = true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	h.enrollPhone(t, "ann@example.com")
	if err := h.st.SetSetting(context.Background(), settings.KeyPhoneEnabled, "false", "test"); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyAlways)

	r, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, http.StatusForbidden, "error")
	h.do(r, "POST", "/reset", url.Values{"step": {"resend"}}).expect(t, http.StatusForbidden, "error")
	h.do(b, "GET", "/mfa/challenge", nil).expect(t, http.StatusForbidden, "error")
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"resend"}}).expect(t, http.StatusForbidden, "error")
	if _, err := h.dispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.plivo.Messages()); n != 0 {
		t.Fatalf("%d text messages sent with Phone Message off", n)
	}
}

func TestResetAsksForTheAppBeforeThePhone(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.mail = true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	h.setUpApp(t, b)
	h.enrollPhone(t, "ann@example.com")

	_, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, 200, "reset-challenge")
	if !strings.Contains(page.body, "authenticator app") || len(h.plivo.Messages()) != 0 {
		t.Fatalf("user with an app and a phone: asks for the app %v, %d SMS sent; want the app and no SMS",
			strings.Contains(page.body, "authenticator app"), len(h.plivo.Messages()))
	}
}

func TestTheMFALockHoldsWhenNoChallengeIsAsked(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.AddMFAFailure(context.Background(), u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.st.LockMFA(context.Background(), u.ID, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyNever)
	p := h.newSPA(t)
	r := h.do(b, "GET", p.authURL(newFlow()), nil)
	if strings.HasPrefix(r.header.Get("Location"), spaCallback) {
		t.Fatal("a locked account got a code under the never policy")
	}
	if !strings.Contains(r.alert()+r.body, "locked") {
		t.Fatalf("locked account at /authorize: %d %q to %q, want the lock explained", r.status, r.alert(), r.header.Get("Location"))
	}
	h.do(b, "GET", "/account", nil).expect(t, http.StatusForbidden, "error")
}

func TestTheSessionIsRenewedWhenTheSecondFactorPasses(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	h.setPolicy(t, mfa.PolicyAlways)
	h.do(b, "POST", "/logout", url.Values{})
	h.logIn(b, "ann@example.com", goodPassword)
	srvURL, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	before := b.Jar.Cookies(srvURL)

	h.passChallenge(t, b, "/account")
	stolen := h.browser()
	stolen.Jar.SetCookies(srvURL, before)
	if r := h.do(stolen, "GET", "/account", nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("the cookie from before the challenge: %d to %q, want the login page", r.status, r.header.Get("Location"))
	}
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
}

func TestAppCodeWithoutAnAppIsAClearRefusal(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	h.enroll(t, b, "")
	h.setPolicy(t, mfa.PolicyAlways)
	h.do(b, "POST", "/logout", url.Values{})
	h.logIn(b, "ann@example.com", goodPassword)
	r := h.do(b, "POST", "/mfa/totp", url.Values{"step": {"code"}, "code": {"123456"}})
	r.expect(t, http.StatusBadRequest, "totp")
	if !strings.Contains(r.alert(), "no authenticator app") {
		t.Fatalf("alert %q", r.alert())
	}
}

func TestTwoSecondFactorsPassedAtOnceNeverFail(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)
	codes := h.enroll(t, b, "")
	h.setPolicy(t, mfa.PolicyAlways)
	srvURL, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		h.do(b, "POST", "/logout", url.Values{})
		h.logIn(b, "ann@example.com", goodPassword)
		// Two tabs of one session each spend a recovery code at the same
		// moment; one renews the session first.
		tabs := []*http.Client{h.browser(), h.browser()}
		for _, tab := range tabs {
			tab.Jar.SetCookies(srvURL, b.Jar.Cookies(srvURL))
		}
		results := make(chan response, 2)
		for i, tab := range tabs {
			go func() {
				results <- h.do(tab, "POST", "/mfa/totp", url.Values{"step": {"recovery"}, "recovery_code": {codes[2*round+i]}})
			}()
		}
		for range tabs {
			r := <-results
			if r.status != http.StatusSeeOther {
				t.Fatalf("round %d: a tab got %d (%q), want a redirect onward or to log in again", round, r.status, r.alert())
			}
		}
	}
}

func TestAnotherSessionNeverSeesAnAppBeingSetUp(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	victim := signedInBrowser(t, h)
	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")

	setup := h.do(victim, "GET", "/account/totp", nil)
	setup.expect(t, 200, "totp-setup")
	secret := totpSecretRE.FindStringSubmatch(setup.body)[1]
	if r := h.do(attacker, "GET", "/account/totp/qr.png", nil); r.status == 200 {
		t.Fatal("a password-only session drew the QR code of the app another session is setting up")
	}
	// The attacker's own setup neither shows nor replaces the victim's.
	if other := h.do(attacker, "GET", "/account/totp", nil); strings.Contains(other.body, secret) {
		t.Fatal("another session was shown the same secret")
	}
	h.do(victim, "POST", "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}}).
		expectRedirect(t, "/account/security?done=app-added")
}

func TestTwoSessionsCannotBothEnrollAFirstFactor(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	a := signedInBrowser(t, h)
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	// Both begin while ann has no factor: a sets up an app, b a phone.
	setup := h.do(a, "GET", "/account/totp", nil)
	secret := totpSecretRE.FindStringSubmatch(setup.body)[1]
	h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}}).expectRedirect(t, "/mfa/enroll")
	code := h.sendSMS(t)
	h.do(a, "POST", "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}}).
		expectRedirect(t, "/account/security?done=app-added")

	r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}})
	if r.status == 200 {
		t.Fatal("a second session completed a first enrollment after the first one had")
	}
	u, err := h.st.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, has, err := h.mfaSvc.Factor(context.Background(), u.ID); err != nil || has {
		t.Fatal("the password-only session's phone was enrolled beside the app")
	}
}

func TestResettingMFAInTheConsoleNeedsARecentSecondFactor(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	ada, err := h.st.UserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	page := "/admin/users/" + ada.ID
	h.clock.Advance(20 * time.Minute)
	r := h.adminPost(t, admin, page, page+"/reset-mfa", url.Values{})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") {
		t.Fatalf("reset MFA 20 minutes after the admin's challenge: %d to %q, want the challenge", r.status, r.header.Get("Location"))
	}
	if _, has, err := h.mfaSvc.Factor(context.Background(), ada.ID); err != nil || !has {
		t.Fatal("a stale admin session removed the admin's phone")
	}
	h.passChallenge(t, admin, page)
	h.adminPost(t, admin, page, page+"/reset-mfa", url.Values{}).expectRedirect(t, page)
	if _, has, err := h.mfaSvc.Factor(context.Background(), ada.ID); err != nil || has {
		t.Fatal("after a fresh challenge the reset did nothing")
	}
}

func TestNoTestMessageWhilePhoneMessageIsOff(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	sent := len(h.plivo.Messages())
	if err := h.st.SetSetting(context.Background(), settings.KeyPhoneEnabled, "false", "test"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second)
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa/test", url.Values{"phone": {mobile}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	if !strings.Contains(r.alert(), "turned off") || len(h.plivo.Messages()) != sent {
		t.Fatalf("test message with Phone Message off: alert %q, %d sent", r.alert(), len(h.plivo.Messages())-sent)
	}
}
