package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/cache"
	"github.com/gatehouse-id/gatehouse/settings"
)

func TestSignupsFromOneNetworkAreLimited(t *testing.T) {
	h := newHarness(t, func(o *options) { o.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	if err := h.settings.Set(context.Background(), map[string]string{settings.KeySignupIPHour: "2"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	signUpFrom := func(email, ip string) response {
		return h.do(h.browser(), "POST", "/signup", url.Values{"email": {email}, "password": {goodPassword}}, "X-Forwarded-For", ip)
	}
	// Two addresses in one IPv6 /64 are one network.
	signUpFrom("ann@example.com", "2001:db8:1:2::1").expectRedirect(t, "/account")
	signUpFrom("bob@example.com", "2001:db8:1:2:ffff::9").expectRedirect(t, "/account")

	// A third signup from that network is refused, for a new address and a
	// registered one alike.
	var alerts []string
	for _, email := range []string{"carol@example.com", "ann@example.com"} {
		r := signUpFrom(email, "2001:db8:1:2:abcd::1")
		r.expect(t, http.StatusTooManyRequests, "signup")
		if !strings.HasPrefix(r.alert(), "Too many accounts have been created from your network recently. Try again in ") ||
			r.header.Get("Retry-After") == "" {
			t.Fatalf("%s: alert %q, Retry-After %q", email, r.alert(), r.header.Get("Retry-After"))
		}
		alerts = append(alerts, r.alert())
	}
	if alerts[0] != alerts[1] {
		t.Fatalf("a registered address reads %q, a new one %q", alerts[1], alerts[0])
	}
	if _, err := h.st.UserByEmail(context.Background(), "carol@example.com"); err == nil {
		t.Fatal("the refused signup created an account")
	}

	// Another /64 and an IPv4 address still sign up.
	signUpFrom("carol@example.com", "2001:db8:1:3::1").expectRedirect(t, "/account")
	signUpFrom("dave@example.com", "198.51.100.7").expectRedirect(t, "/account")

	var hits int
	if err := h.st.Pool().QueryRow(context.Background(), `
		select count(*) from audit_log where event = 'signup.limit_hit' and ip = '2001:db8:1:2:abcd::1'`).Scan(&hits); err != nil {
		t.Fatal(err)
	}
	if hits != 2 {
		t.Fatalf("%d signup limit hits audited, want 2", hits)
	}
}

func TestTheDefaultSignupLimitIsTenAnHour(t *testing.T) {
	h := newHarness(t)
	for i := range 10 {
		h.signUp(h.browser(), fmt.Sprintf("user%d@example.com", i)).expectRedirect(t, "/account")
	}
	h.signUp(h.browser(), "one-more@example.com").expect(t, http.StatusTooManyRequests, "signup")
}

func TestAdminSetsTheSignupLimits(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	page := h.do(admin, "GET", "/admin/mfa", nil)
	for _, key := range []string{settings.KeySignupIPHour, settings.KeySignupIPDay} {
		if !strings.Contains(page.body, `name="`+key+`"`) {
			t.Fatalf("the limits form lacks %s", key)
		}
	}
	h.adminPost(t, admin, "/admin/mfa", "/admin/mfa", url.Values{"section": {"limits"},
		settings.KeySignupIPHour: {"1"}, settings.KeySignupIPDay: {"5"}}).expectRedirect(t, "/admin/mfa")
	h.signUp(h.browser(), "ann@example.com").expectRedirect(t, "/account")
	h.signUp(h.browser(), "bob@example.com").expect(t, http.StatusTooManyRequests, "signup")
}

// While the tenant's settings cannot be read the signup limits are unknown,
// so signups shut; the visitor reads a plain "come back shortly" with the
// form kept, not a server error, and no account is made.
func TestSignupsClosedWhileSettingsAreUnreadableSayTryAgain(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.st.Pool().Exec(ctx, `alter table settings rename to settings_away`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := h.st.Pool().Exec(context.Background(), `alter table settings_away rename to settings`); err != nil {
			t.Error(err)
		}
	})
	h.clock.Advance(settings.CacheTTL + cache.MaxStale + time.Minute)
	r := h.do(h.browser(), "POST", "/signup", url.Values{"email": {"erin@example.com"}, "password": {goodPassword}})
	r.expect(t, http.StatusServiceUnavailable, "signup")
	if !strings.HasPrefix(r.alert(), "Signing up is unavailable for a few minutes.") || r.header.Get("Retry-After") == "" {
		t.Fatalf("alert %q, Retry-After %q", r.alert(), r.header.Get("Retry-After"))
	}
	if !strings.Contains(r.body, `value="erin@example.com"`) {
		t.Error("the form lost the address typed into it")
	}
	if _, err := h.st.UserByEmail(ctx, "erin@example.com"); err == nil {
		t.Fatal("a signup went through while its limits could not be read")
	}
}
