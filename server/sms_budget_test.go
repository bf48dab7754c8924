package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
)

// An enrollment flood (new accounts texting new numbers) spends the part of
// the global SMS budget enrollment may use, and no more: a user with a
// verified phone still gets the sign-in code.
func TestEnrollmentFloodLeavesTheBudgetForVerifiedPhones(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 4, Window: time.Hour}}
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
	if err := h.st.Pool().QueryRow(context.Background(), `
		select count(*) from audit_log where event = 'mfa.limit_hit' and details->>'limit' = 'global_enroll'`).Scan(&hits); err != nil {
		t.Fatal(err)
	}
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

func TestTheDashboardShowsWhichLimitIsBurning(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 4, Window: time.Hour}}
	h := newAdminHarness(t, func(o *options) { o.mfaRules = rules })
	admin := h.adminBrowser(t) // one sign-in code
	if err := h.settings.Set(context.Background(), map[string]string{settings.KeySignupIPHour: "3"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	// Three new accounts enroll numbers; the third is refused by the
	// enrollment share, and a fourth signup by the signup limit.
	for i := range 3 {
		b := h.browser()
		h.signUp(b, fmt.Sprintf("flood%d@example.com", i)).expectRedirect(t, "/account")
		r := h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {fmt.Sprintf("+4479111234%02d", i)}})
		if i < 2 {
			r.expect(t, http.StatusSeeOther, "")
			continue
		}
		r.expect(t, http.StatusTooManyRequests, "enroll")
		if !strings.Contains(r.alert(), "new numbers") {
			t.Fatalf("the enrollment share's refusal says %q, want it to name new numbers", r.alert())
		}
	}
	h.signUp(h.browser(), "flood3@example.com").expect(t, http.StatusTooManyRequests, "signup")

	page := h.do(admin, "GET", "/admin/", nil)
	page.expect(t, http.StatusOK, "admin-dashboard")
	for _, c := range []struct{ row, want string }{
		{`<tr data-budget="global">`, "3,4"},
		{`<tr data-budget="global_enroll">`, "2,2"},
		{`<tr data-limit="global_enroll">`, "1,1,1"},
		{`<tr data-limit="signup">`, "1,1,1"},
		{`<tr data-limit="global">`, "0,0,0"},
	} {
		if got := strings.Join(rowCells(t, page.body, c.row), ","); got != c.want {
			t.Errorf("%s: %s, want %s", c.row, got, c.want)
		}
	}
	first := regexp.MustCompile(`<tr data-limit="([a-z_]+)"`).FindStringSubmatch(page.body)
	if first == nil || first[1] != "global_enroll" {
		t.Errorf("the first limit listed is %v, want the one refusing: global_enroll", first)
	}
	if !strings.Contains(page.body, "100%") {
		t.Error("the spent enrollment share does not read 100%")
	}

	c := h.newAPIClient(t, "ops", "read:stats")
	stats := c.call(t, "GET", "/api/admin/stats", "")
	stats.expect(t, http.StatusOK, "")
	var body struct {
		Limits map[string]struct {
			LastHour int `json:"last_1h"`
		} `json:"limit_hits"`
		Signups struct {
			LastHour int `json:"last_1h"`
		} `json:"signup_limit_hits"`
		Budgets []struct {
			Limit         string `json:"limit"`
			WindowSeconds int    `json:"window_seconds"`
			Sent, Max     int
		} `json:"sms_budgets"`
	}
	if err := json.Unmarshal([]byte(stats.raw), &body); err != nil {
		t.Fatal(err)
	}
	if body.Limits["global_enroll"].LastHour != 1 || body.Signups.LastHour != 1 || len(body.Budgets) != 2 ||
		body.Budgets[1].Limit != "global_enroll" || body.Budgets[1].Sent != 2 || body.Budgets[1].Max != 2 ||
		body.Budgets[0].Sent != 3 || body.Budgets[0].WindowSeconds != 3600 {
		t.Fatalf("stats: %s", stats.raw)
	}
	if _, ok := body.Limits["phone"]; !ok {
		t.Errorf("limit_hits leaves out the limits not hit: %s", stats.raw)
	}
}
