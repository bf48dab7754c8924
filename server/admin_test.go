package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

const adminEmail = "admin@example.com"

// newAdminHarness is a Gatehouse with SMS MFA on the fake Plivo and an admin
// account whose phone is enrolled.
func newAdminHarness(t *testing.T, opts ...func(*options)) *harness {
	t.Helper()
	h := newHarness(t, append([]func(*options){func(o *options) { o.plivo = true }}, opts...)...)
	u, err := h.accounts.CreateUser(context.Background(), adminEmail, "Ada Admin", goodPassword, true, account.Meta{})
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
	return h
}

// adminBrowser logs the admin in and passes the SMS challenge the console
// asks for.
func (h *harness) adminBrowser(t *testing.T) *http.Client {
	t.Helper()
	b := h.browser()
	h.logIn(b, adminEmail, goodPassword)
	h.do(b, "GET", "/admin/", nil).expectRedirect(t, "/mfa/challenge?return_to=%2Fadmin%2F")
	h.do(b, "GET", "/mfa/challenge?return_to=%2Fadmin%2F", nil).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "return_to": {"/admin/"}}).expectRedirect(t, "/admin/")
	return b
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// adminPost submits an admin form as the page at page would, with its CSRF token.
func (h *harness) adminPost(t *testing.T, b *http.Client, page, action string, form url.Values) response {
	t.Helper()
	r := h.do(b, "GET", page, nil)
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d, screen %q)", page, r.status, r.screen())
	}
	form.Set("csrf", m[1])
	return h.do(b, "POST", action, form)
}

func TestAdminConsoleIsForAdminsPastTheirSecondFactor(t *testing.T) {
	h := newAdminHarness(t)

	anonymous := h.browser()
	h.do(anonymous, "GET", "/admin/mfa", nil).expectRedirect(t, "/login?return_to=%2Fadmin%2Fmfa")

	user := h.browser()
	h.signUp(user, "ann@example.com")
	for _, path := range []string{"/admin/", "/admin/mfa"} {
		h.do(user, "GET", path, nil).expect(t, http.StatusForbidden, "error")
	}
	h.do(user, "POST", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"never"}}).expect(t, http.StatusForbidden, "error")

	// The admin's password alone does not open the console, whatever the policy.
	pwOnly := h.browser()
	h.logIn(pwOnly, adminEmail, goodPassword)
	h.do(pwOnly, "GET", "/admin/mfa", nil).expectRedirect(t, "/mfa/challenge?return_to=%2Fadmin%2Fmfa")
	h.do(pwOnly, "POST", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"always"}}).expectRedirect(t, "/mfa/challenge?return_to=%2Fadmin%2F")

	admin := h.adminBrowser(t)
	h.do(admin, "GET", "/admin/mfa", nil).expect(t, http.StatusOK, "admin-mfa")
}

func TestAdminFormsNeedTheSessionsCSRFToken(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	form := url.Values{"section": {"policy"}, "mfa_policy": {"adaptive"}}
	cases := map[string]url.Values{
		"no token":    form,
		"wrong token": {"section": {"policy"}, "mfa_policy": {"adaptive"}, "csrf": {"forged"}},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			h.do(admin, "POST", "/admin/mfa", f).expect(t, http.StatusForbidden, "error")
		})
	}
	t.Run("token of another session", func(t *testing.T) {
		other := h.adminBrowser(t)
		page := h.do(other, "GET", "/admin/mfa", nil)
		f := url.Values{"section": {"policy"}, "mfa_policy": {"adaptive"}, "csrf": {csrfRE.FindStringSubmatch(page.body)[1]}}
		h.do(admin, "POST", "/admin/mfa", f).expect(t, http.StatusForbidden, "error")
	})
	t.Run("cross-site post with the right token", func(t *testing.T) {
		page := h.do(admin, "GET", "/admin/mfa", nil)
		f := url.Values{"section": {"policy"}, "mfa_policy": {"adaptive"}, "csrf": {csrfRE.FindStringSubmatch(page.body)[1]}}
		h.do(admin, "POST", "/admin/mfa", f, "Sec-Fetch-Site", "cross-site").expect(t, http.StatusForbidden, "")
	})
	snap, err := h.settings.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Policy() != mfa.DefaultPolicy {
		t.Errorf("policy is %s after refused forms", snap.Policy())
	}
}

func TestAdminChoosesThePolicyWithTheConfirmationAlwaysNeeds(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)

	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"always"}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	if !strings.Contains(r.body, "every user will have to enroll") {
		t.Errorf("no confirmation asked for: %s", r.alert())
	}
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"sometimes"}}).
		expect(t, http.StatusBadRequest, "admin-mfa")

	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa",
		url.Values{"section": {"policy"}, "mfa_policy": {"always"}, "confirm_always": {"1"}, "mfa_remember_days": {"7"}}).
		expectRedirect(t, "/admin/mfa")
	page := h.do(admin, "GET", "/admin/mfa", nil)
	if !strings.Contains(page.body, `id="mfa_policy_always" name="mfa_policy" type="radio" value="always" checked`) ||
		!strings.Contains(page.body, "Saved.") {
		t.Error("the page does not show the saved policy and a notice")
	}

	// A second replica on the same database applies it within the cache TTL.
	second, err := settings.NewService(h.st, h.st, testMasterKey, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := second.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Policy() != mfa.PolicyAlways || snap.Rules(mfa.DefaultRules()).TrustedBrowserFor != 7*24*time.Hour {
		t.Errorf("another replica reads policy %s", snap.Policy())
	}
	// The change is audited with who made it.
	events, err := h.st.AuditEvents(context.Background(), store.AuditFilter{Type: settings.EventChanged})
	if err != nil || len(events) != 1 || !strings.Contains(events[0].Details, `"by": "admin:admin@example.com"`) ||
		!strings.Contains(events[0].Details, `"mfa_policy": "always"`) {
		t.Errorf("audit: %+v (%v)", events, err)
	}

	// And a user now has to enroll.
	h.clock.Advance(2 * time.Second)
	user := h.browser()
	h.signUp(user, "ann@example.com")
	h.do(user, "GET", "/account", nil).expectRedirect(t, "/mfa/enroll?return_to=%2Faccount")
}

func TestAdminSetsThePlivoProviderWithoutEverSeeingTheTokenAgain(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	const token = "fake-plivo-token-for-tests-0001"

	bad := url.Values{"section": {"factor"}, "mfa_phone_enabled": {"true"}, "sms_provider": {"plivo"},
		"plivo_auth_id": {"MA-not valid"}, "plivo_auth_token": {token}, "plivo_src": {"4155550100"}, "sms_delivery": {"sms"}}
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", bad)
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	for _, want := range []string{`id="plivo_auth_id-error"`, `id="plivo_src-error"`, "E.164"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused form lacks %s", want)
		}
	}
	if strings.Contains(r.body, token) {
		t.Error("the refused form shows the token back")
	}

	good := url.Values{"section": {"factor"}, "mfa_phone_enabled": {"true"}, "sms_provider": {"plivo"},
		"plivo_auth_id": {"MAXXXXXXXXXXXXXXXXXX"}, "plivo_auth_token": {token}, "plivo_src": {"+14155550100"}, "sms_delivery": {"sms"}}
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", good).expectRedirect(t, "/admin/mfa")
	page := h.do(admin, "GET", "/admin/mfa", nil)
	if strings.Contains(page.body, token) || !strings.Contains(page.body, "Set; leave blank to keep") {
		t.Error("the page shows the token, or does not say it is set")
	}
	raw, err := h.st.Setting(context.Background(), settings.KeyPlivoAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, token) {
		t.Error("the token is stored in the clear")
	}
	events, err := h.st.AuditEvents(context.Background(), store.AuditFilter{Type: "settings."})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(e.Details, token) {
			t.Error("the audit log holds the token")
		}
	}
}

func TestAdminSendsATestMessage(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	before := len(h.plivo.Messages())
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa/test", url.Values{"phone": {mobile}}).expectRedirect(t, "/admin/mfa")
	if got := len(h.plivo.Messages()); got != before+1 {
		t.Fatalf("Plivo received %d messages, want 1", got-before)
	}
	if page := h.do(admin, "GET", "/admin/mfa", nil); !strings.Contains(page.body, "Test message handed to plivo") {
		t.Error("no notice after the test message")
	}
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa/test", url.Values{"phone": {"not a number"}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	if !strings.Contains(r.body, `id="phone-error"`) {
		t.Error("a malformed number has no field error")
	}
}

func TestPhoneMessageOffLeavesOnlyAuthenticatorApps(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"policy"}, "mfa_policy": {"always"}, "confirm_always": {"1"}}).
		expectRedirect(t, "/admin/mfa")
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"factor"}, "sms_provider": {"environment"}, "sms_delivery": {"sms"}}).
		expectRedirect(t, "/admin/mfa")
	h.clock.Advance(2 * time.Second)
	user := h.browser()
	h.signUp(user, "ann@example.com")
	h.do(user, "GET", "/mfa/enroll", nil).expect(t, http.StatusForbidden, "error")
	// Under Always a user with no factor sets one up first: with the phone
	// off, that is an authenticator app.
	h.do(user, "GET", "/account", nil).expectRedirect(t, "/account/totp?return_to=%2Faccount")
	h.do(user, "GET", "/account/totp?return_to=%2Faccount", nil).expect(t, http.StatusOK, "totp-setup")
}

func TestEveryAdminFormNeedsTheSessionsCSRFToken(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	appID, _ := h.createApp(t, admin, "App", "spa")
	apiPage := h.createAPI(t, admin, "Orders", "https://orders.example.com", "1h")
	h.signUp(h.browser(), "ann@example.com")
	ann, err := h.st.UserByEmail(withContext(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	posts := []string{"/admin/mfa", "/admin/mfa/test", "/admin/applications", "/admin/applications/" + appID,
		"/admin/applications/" + appID + "/rotate-secret", "/admin/applications/" + appID + "/delete",
		"/admin/apis", apiPage, apiPage + "/scopes", apiPage + "/grants", apiPage + "/delete", "/admin/try"}
	for _, action := range []string{"block", "unblock", "reset-mfa", "revoke-sessions", "promote", "demote", "verify-email", "delete"} {
		posts = append(posts, "/admin/users/"+ann.ID+"/"+action)
	}
	form := url.Values{"section": {"policy"}, "mfa_policy": {"always"}, "confirm_always": {"1"}, "name": {"X"}, "type": {"spa"},
		"confirm": {"App"}, "confirm_email": {"ann@example.com"}, "phone": {mobile}}
	for _, path := range posts {
		t.Run(path, func(t *testing.T) {
			h.do(admin, "POST", path, form).expect(t, http.StatusForbidden, "error")
		})
	}
	if u, err := h.st.UserByEmail(withContext(), "ann@example.com"); err != nil || u.Blocked || u.Admin {
		t.Errorf("a form without its token changed the user: %+v", u)
	}
	if _, err := h.st.ClientByID(withContext(), appID); err != nil {
		t.Errorf("a form without its token deleted the application: %v", err)
	}
}

func TestTheAdaptiveFormShowsTheMediumRuleInForce(t *testing.T) {
	challengeMedium := true
	h := newAdminHarness(t, func(o *options) { o.adaptive = &challengeMedium })
	admin := h.adminBrowser(t)
	const ticked = `id="risk_challenge_medium" name="risk_challenge_medium" type="checkbox" value="true" checked`
	if page := h.do(admin, "GET", "/admin/mfa", nil); !strings.Contains(page.body, ticked) {
		t.Fatal("the box is unticked while the deployment challenges medium confidence")
	}
	// Saving the form as shown keeps the rule; unticking it turns it off.
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"adaptive"}, "risk_challenge_medium": {"true"}, "risk_blocked_cidrs": {"203.0.113.0/24"}}).
		expectRedirect(t, "/admin/mfa")
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"adaptive"}, "risk_blocked_cidrs": {""}}).expectRedirect(t, "/admin/mfa")
	h.clock.Advance(2 * time.Second)
	if page := h.do(admin, "GET", "/admin/mfa", nil); strings.Contains(page.body, ticked) {
		t.Error("the box stays ticked after the admin unticked it")
	}
}
