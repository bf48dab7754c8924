package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// An enrollment flood (new accounts texting new numbers) spends the part of
// the global SMS budget enrollment may use, and no more: a user with a
// verified phone still gets the sign-in code.
func TestEnrollmentFloodLeavesTheBudgetForVerifiedPhones(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []mfa.Limit{{Max: 4, Window: time.Hour}}
	h := newHarness(t, func(o *options) { o.plivo, o.mfaRules = true, rules })
	ann := signedInBrowser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	h.enroll(t, ann, "")

	// New accounts enroll new numbers until the server refuses to text them.
	refused := false
	for i := range 4 {
		b := h.browser()
		h.signUp(b, fmt.Sprintf("flood%d@example.com", i)).expectRedirect(t, "/account")
		r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {fmt.Sprintf("+4479111234%02d", i)}})
		if r.status == http.StatusTooManyRequests {
			refused = true
			break
		}
		r.expect(t, http.StatusSeeOther, "")
		h.sendSMS(t)
	}
	if !refused {
		t.Fatal("the enrollment flood was never refused")
	}

	// Ann signs in on another browser and is texted her code.
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	page := h.do(b, "GET", "/mfa/challenge", nil)
	page.expect(t, http.StatusOK, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}}).expectRedirect(t, "/account")

	var hits int
	h.st.Pool().QueryRow(context.Background(), `
		select count(*) from audit_log where event = 'mfa.limit_hit' and details->>'limit' = 'global_enroll'`).Scan(&hits)
	if hits != 1 {
		t.Fatalf("%d refusals audited as the global_enroll limit, want 1", hits)
	}
}

func TestAdminSetsTheShareOfTheBudgetForNewNumbers(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	page := h.do(admin, "GET", "/admin/mfa", nil)
	if !strings.Contains(page.body, `name="sms_limit_enroll_percent"`) || !strings.Contains(page.body, "Default: 50.") {
		t.Fatal("the limits form lacks the share for new numbers")
	}
	r := h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"limits"}, "sms_limit_enroll_percent": {"0"}})
	r.expect(t, http.StatusBadRequest, "admin-mfa")
	if !strings.Contains(r.body, "from 1 to 100") {
		t.Fatal("a share of 0 is refused without saying what is allowed")
	}
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"limits"}, "sms_limit_enroll_percent": {"20"}}).
		expectRedirect(t, "/admin/mfa")
	h.clock.Advance(2 * time.Second) // past the settings cache
	if got := h.mfaSvc.Rules(context.Background()).EnrollShare; got != 20 {
		t.Fatalf("the SMS factor spends %d%% on new numbers, want 20%%", got)
	}

	c := h.newAPIClient(t, "ops", "read:settings")
	list := c.call(t, "GET", "/api/admin/settings", "")
	list.expect(t, http.StatusOK, "")
	found := false
	for _, v := range list.body["settings"].([]any) {
		if s := v.(map[string]any); s["key"] == "sms_limit_enroll_percent" {
			found = s["value"] == "20" && s["group"] == "limits" && s["default"] == "50"
		}
	}
	if !found {
		t.Fatalf("the admin API does not show the share: %s", list.raw)
	}
}
