package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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
