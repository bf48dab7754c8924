package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk/risktest"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/settings"
)

// withRisk gives the harness the adaptive policy as production wires it, on
// the real store, the harness's settings and a test GeoIP database.
func (h *harness) withRisk(t testing.TB, deps *server.Deps, challengeMedium bool) {
	geo := risktest.GeoIP(t)
	deps.Locator = geo
	deps.Risk = h.mfaSvc.RiskEngine(mfa.AdaptiveSources{History: h.st, Failures: h.st, Users: h.st,
		Locator: geo, Tenant: h.settings, ChallengeMedium: challengeMedium})
}

func adaptiveHarness(t *testing.T, challengeMedium bool) (*harness, *rp) {
	h := newHarness(t, func(o *options) {
		o.plivo, o.adaptive = true, &challengeMedium
		o.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	p := h.newSPA(t)
	h.signUp(h.browser(), "ann@example.com")
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
	h.setPolicy(t, mfa.PolicyAdaptive)
	// A week on, the new phone is no longer a recent change.
	h.clock.Advance(8 * 24 * time.Hour)
	return h, p
}

// loginFrom runs a fresh password login in browser b from address ip and
// reports whether the dispatcher asked for the SMS challenge.
func (h *harness) loginFrom(t *testing.T, p *rp, b *http.Client, ip string) bool {
	t.Helper()
	return h.loginWith(t, p, b, ip, goodPassword)
}

// loginWith is loginFrom with another password.
func (h *harness) loginWith(t *testing.T, p *rp, b *http.Client, ip, password string) bool {
	t.Helper()
	h.do(b, "POST", "/logout", url.Values{})
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f), nil, "X-Forwarded-For", ip)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resume := loc.Query().Get("return_to")
	h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {password}, "return_to": {resume}},
		"X-Forwarded-For", ip).expectRedirect(t, resume)
	next := h.do(b, "GET", resume, nil, "X-Forwarded-For", ip)
	if strings.HasPrefix(next.header.Get("Location"), "/mfa/challenge?") {
		return true
	}
	callback(t, next)
	return false
}

func TestAdaptiveChallengesImpossibleTravelAndSaysWhy(t *testing.T) {
	h, p := adaptiveHarness(t, false)
	b := h.browser()
	if h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("first login from London, a new browser alone: challenged, want medium confidence allowed")
	}
	if h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("same browser, same place: challenged")
	}
	h.clock.Advance(time.Hour)
	if !h.loginFrom(t, p, b, risktest.NewYorkIP) {
		t.Fatal("New York an hour after London: not challenged")
	}
	var summary, details string
	if err := h.st.Pool().QueryRow(context.Background(),
		`select subject, details::text from audit_log where event = 'mfa.risk_assessed' order by id desc limit 1`).Scan(&summary, &details); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "low confidence") || !strings.Contains(details, "impossible_travel") || !strings.Contains(details, "km/h") {
		t.Fatalf("assessment not readable: %q %s", summary, details)
	}
	var stored int
	if err := h.st.Pool().QueryRow(context.Background(),
		`select count(*) from login_transactions where assessment->>'decision' = 'challenge'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Fatalf("%d login transactions keep the assessment, want 1", stored)
	}
}

func TestAdaptiveChallengesBlockedNetworks(t *testing.T) {
	h, p := adaptiveHarness(t, false)
	if err := h.settings.Set(context.Background(), map[string]string{settings.KeyBlockedNetworks: "203.0.113.0/24"},
		"test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	h.loginFrom(t, p, b, risktest.LondonIP)
	if !h.loginFrom(t, p, b, "203.0.113.7") {
		t.Fatal("login from a blocked network: not challenged")
	}
}

func TestAdaptiveWithMediumChallengesNewBrowsersOnly(t *testing.T) {
	h, p := adaptiveHarness(t, true)
	b := h.browser()
	if !h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("a new browser: not challenged")
	}
	h.do(b, "GET", "/mfa/challenge", nil, "X-Forwarded-For", risktest.LondonIP).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}}, "X-Forwarded-For", risktest.LondonIP).
		expectRedirect(t, "/account")
	if h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("the browser that passed a challenge before: challenged again")
	}
	if !h.loginFrom(t, p, h.browser(), risktest.LondonIP) {
		t.Fatal("another new browser: not challenged")
	}
}

// The production wiring's recent-change signal: a password changed this week
// makes even a known browser in a known place medium confidence.
func TestAdaptiveWithMediumChallengesAKnownBrowserAfterAPasswordChange(t *testing.T) {
	h, p := adaptiveHarness(t, true)
	b := h.browser()
	if !h.loginFrom(t, p, b, risktest.LondonIP) {
		t.Fatal("a new browser: not challenged")
	}
	h.do(b, "GET", "/mfa/challenge", nil, "X-Forwarded-For", risktest.LondonIP).expect(t, 200, "challenge")
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {h.sendSMS(t)}}, "X-Forwarded-For", risktest.LondonIP).
		expectRedirect(t, "/account")
	h.do(b, "POST", "/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"a brand new phrase"}},
		"X-Forwarded-For", risktest.LondonIP).expect(t, 200, "account")
	h.clock.Advance(24 * time.Hour)
	if !h.loginWith(t, p, b, risktest.LondonIP, "a brand new phrase") {
		t.Fatal("the browser that passed a challenge, the day after a password change: not challenged")
	}
	h.clock.Advance(7 * 24 * time.Hour)
	if h.loginWith(t, p, b, risktest.LondonIP, "a brand new phrase") {
		t.Fatal("the browser that passed a challenge, eight days after a password change: challenged")
	}
}
