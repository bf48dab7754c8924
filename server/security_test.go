package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// securityFixture is ann with a phone, recovery codes, a second signed-in
// browser and a remembered browser: everything the security page can change.
type securityFixture struct {
	h         *harness
	ann       account.User
	here      *http.Client // signed up; password only until a test passes a factor
	there     *http.Client // another of ann's sessions
	browserID string       // ann's remembered browser
	codes     []string
}

func newSecurityFixture(t *testing.T, opts ...func(*options)) securityFixture {
	t.Helper()
	h := newHarness(t, append([]func(*options){func(o *options) { o.plivo = true }}, opts...)...)
	f := securityFixture{h: h, here: signedInBrowser(t, h), there: h.browser()}
	h.enrollPhone(t, "ann@example.com")
	h.setPolicy(t, mfa.PolicyNever)
	ctx := context.Background()
	var err error
	if f.ann, err = h.st.UserByEmail(ctx, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	if f.codes, err = h.mfaSvc.IssueRecoveryCodes(ctx, f.ann.ID); err != nil {
		t.Fatal(err)
	}
	_, b, err := h.mfaSvc.TrustBrowser(ctx, f.ann.ID, netip.MustParseAddr("192.0.2.1"), "Firefox/128.0 Linux")
	if err != nil {
		t.Fatal(err)
	}
	f.browserID = b.ID
	h.logIn(f.there, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	return f
}

func (f securityFixture) sessions(t *testing.T) int {
	t.Helper()
	list, err := f.h.accounts.Sessions(context.Background(), f.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// otherSID is the form value that ends ann's other session, as her
// security page shows it to a session that may see it.
func (f securityFixture) otherSID(t *testing.T) string {
	t.Helper()
	m := sidRE.FindStringSubmatch(f.h.do(f.there, "GET", "/account/security", nil).body)
	if m == nil {
		t.Fatal("the security page offers no session to end")
	}
	return m[1]
}

func TestAPasswordAloneChangesNothingOnTheSecurityPage(t *testing.T) {
	f := newSecurityFixture(t)
	h := f.h
	ctx := context.Background()
	phone, _, _ := h.mfaSvc.Factor(ctx, f.ann.ID)
	sid := f.otherSID(t)

	// The page itself opens: the tenant's policy is never.
	h.do(f.here, "GET", "/account/security", nil).expect(t, 200, "security")
	for _, req := range []struct {
		path string
		form url.Values
	}{
		{"/account/recovery-codes", url.Values{}},
		{"/account/phone/remove", url.Values{"id": {phone.ID}}},
		{"/account/sessions/end", url.Values{"sid": {sid}}},
		{"/account/sessions/end-others", url.Values{}},
		{"/account/browsers/forget", url.Values{"id": {f.browserID}}},
		{"/account/browsers/forget-all", url.Values{}},
		{"/account/totp/remove", url.Values{}},
	} {
		r := h.do(f.here, "POST", req.path, req.form)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/challenge?") ||
			!strings.Contains(r.header.Get("Location"), "reauth=1") {
			t.Errorf("POST %s from a password-only session: %d to %q, want the phone's challenge again",
				req.path, r.status, r.header.Get("Location"))
		}
	}
	if err := h.mfaSvc.UseRecoveryCode(ctx, f.ann.ID, f.codes[0]); err != nil {
		t.Errorf("the old recovery codes stopped working: %v", err)
	}
	if _, has, _ := h.mfaSvc.Factor(ctx, f.ann.ID); !has {
		t.Error("the phone was removed")
	}
	if n := f.sessions(t); n != 2 {
		t.Errorf("ann has %d sessions, want both", n)
	}
	if bs, _ := h.mfaSvc.TrustedBrowsers(ctx, f.ann.ID); len(bs) != 1 {
		t.Errorf("ann has %d remembered browsers, want 1", len(bs))
	}
}
