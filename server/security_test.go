package server_test

import (
	"context"
	"errors"
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
	phone, _, err := h.mfaSvc.Factor(ctx, f.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
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
	if _, has, err := h.mfaSvc.Factor(ctx, f.ann.ID); err != nil || !has {
		t.Error("the phone was removed")
	}
	if n := f.sessions(t); n != 2 {
		t.Errorf("ann has %d sessions, want both", n)
	}
	if bs, err := h.mfaSvc.TrustedBrowsers(ctx, f.ann.ID); err != nil || len(bs) != 1 {
		t.Errorf("ann has %d remembered browsers, want 1", len(bs))
	}
}

// verified follows the verification link signup mailed ann, so that
// security changes are announced to her.
func (f securityFixture) verified(t *testing.T) securityFixture {
	t.Helper()
	f.h.do(f.h.browser(), "GET", f.h.sendMail(t, "ann@example.com"), nil).expect(t, 200, "verify-email")
	return f
}

// announced runs the mail dispatcher and returns the subject of the one
// mail it sent ann.
func (h *harness) announced(t *testing.T) string {
	t.Helper()
	if n, err := h.mailDispatcher.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("dispatcher sent %d mails (%v), want 1", n, err)
	}
	m := <-h.relay.received
	if m.to != "ann@example.com" {
		t.Fatalf("mail to %s", m.to)
	}
	subject, _, _ := strings.Cut(m.text, "\n")
	for _, line := range strings.Split(m.text, "\n") {
		if strings.Contains(line, " on the Gatehouse account for ") {
			subject = line
		}
	}
	return subject
}

func TestRegeneratingRecoveryCodesShowsNewOnesOnceAndTheOldOnesStopWorking(t *testing.T) {
	f := newSecurityFixture(t, withMail).verified(t)
	h := f.h
	h.passChallenge(t, f.here, "/account/security")

	page := h.do(f.here, "POST", "/account/recovery-codes", url.Values{})
	page.expect(t, 200, "recovery")
	fresh := shownCodes(page.body)
	if len(fresh) != 10 || !strings.Contains(page.body, `name="return_to" value="/account/security"`) {
		t.Fatalf("%d codes shown, want 10 and a way back to the security page", len(fresh))
	}
	ctx := context.Background()
	if err := h.mfaSvc.UseRecoveryCode(ctx, f.ann.ID, f.codes[0]); !errors.Is(err, mfa.ErrInvalidRecoveryCode) {
		t.Fatalf("an old code: %v, want it refused", err)
	}
	if err := h.mfaSvc.UseRecoveryCode(ctx, f.ann.ID, fresh[0]); err != nil {
		t.Fatalf("a new code: %v", err)
	}
	if got := h.announced(t); !strings.Contains(got, "Your recovery codes were regenerated") {
		t.Fatalf("announcement %q", got)
	}
	if !strings.Contains(h.do(f.here, "GET", "/account/security", nil).body, "9 unused codes left") {
		t.Fatal("the security page does not count the codes left")
	}
}

func TestRemovingThePhoneFromTheSecurityPage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		app       bool
		codesLeft int
	}{
		{"the last factor: its recovery codes go with it", false, 0},
		{"beside an app: the recovery codes stay", true, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSecurityFixture(t, withMail).verified(t)
			h := f.h
			ctx := context.Background()
			h.passChallenge(t, f.here, "/account/security")
			if tc.app {
				h.setUpApp(t, f.here)
				h.announced(t)
			}
			phone, _, err := h.mfaSvc.Factor(ctx, f.ann.ID)
			if err != nil {
				t.Fatal(err)
			}

			h.do(f.here, "POST", "/account/phone/remove", url.Values{"id": {"a form from another day"}}).
				expectRedirect(t, "/account/security?done=stale")
			if _, has, err := h.mfaSvc.Factor(ctx, f.ann.ID); err != nil || !has {
				t.Fatal("a stale form removed the phone")
			}
			h.do(f.here, "POST", "/account/phone/remove", url.Values{"id": {phone.ID}}).
				expectRedirect(t, "/account/security?done=phone-removed")
			if _, has, err := h.mfaSvc.Factor(ctx, f.ann.ID); err != nil || has {
				t.Fatal("the phone is still there")
			}
			if n, err := h.mfaSvc.RecoveryCodesLeft(ctx, f.ann.ID); err != nil || n != tc.codesLeft {
				t.Fatalf("%d recovery codes left, want %d", n, tc.codesLeft)
			}
			if got := h.announced(t); !strings.Contains(got, "Your phone was removed") {
				t.Fatalf("announcement %q", got)
			}
			if e := h.lastAudit(t, mfa.EventPhoneRemoved); e.UserID != f.ann.ID {
				t.Fatalf("removal audited for %q", e.UserID)
			}
		})
	}
}

func TestChangingThePhoneComesBackToTheSecurityPageAndIsAnnounced(t *testing.T) {
	f := newSecurityFixture(t, withMail).verified(t)
	h := f.h
	change := "/mfa/enroll?change=1&return_to=%2Faccount%2Fsecurity"
	h.passChallenge(t, f.here, change)
	h.do(f.here, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile},
		"return_to": {"/account/security"}}).expectRedirect(t, "/mfa/enroll?return_to=%2Faccount%2Fsecurity")
	code := h.sendSMS(t)
	h.do(f.here, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}, "return_to": {"/account/security"}}).
		expect(t, 200, "recovery")
	h.do(f.here, "POST", "/mfa/recovery", url.Values{"saved": {"1"}, "return_to": {"/account/security"}}).
		expectRedirect(t, "/account/security")
	if got := h.announced(t); !strings.Contains(got, "Your phone number was changed") {
		t.Fatalf("announcement %q", got)
	}
}

func TestNoAnnouncementGoesToAnUnverifiedAddress(t *testing.T) {
	f := newSecurityFixture(t, withMail)
	h := f.h
	h.sendMail(t, "ann@example.com") // the verification link, not followed
	h.passChallenge(t, f.here, "/account/security")
	h.do(f.here, "POST", "/account/recovery-codes", url.Values{}).expect(t, 200, "recovery")
	h.noMail(t)
}

func TestLoggingOutAllOtherSessionsAndForgettingAllBrowsers(t *testing.T) {
	f := newSecurityFixture(t)
	h := f.h
	h.passChallenge(t, f.here, "/account/security")

	h.do(f.here, "POST", "/account/sessions/end-others", url.Values{}).expectRedirect(t, "/account/security?done=sessions-ended")
	h.do(f.there, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	page := h.do(f.here, "GET", "/account/security?done=sessions-ended", nil)
	page.expect(t, 200, "security")
	if page.notice() != "Your other sessions were logged out." || f.sessions(t) != 1 {
		t.Fatalf("notice %q, %d sessions; want this one only", page.notice(), f.sessions(t))
	}
	if e := h.lastAudit(t, account.EventLogout); !strings.Contains(e.Details, `"others": 1`) {
		t.Fatalf("audited %v, want one event naming the one other session", e.Details)
	}

	h.do(f.here, "POST", "/account/browsers/forget-all", url.Values{}).expectRedirect(t, "/account/security?done=browsers-forgotten")
	if bs, err := h.mfaSvc.TrustedBrowsers(context.Background(), f.ann.ID); err != nil || len(bs) != 0 {
		t.Fatalf("%d remembered browsers left", len(bs))
	}
	h.do(f.here, "POST", "/account/browsers/forget", url.Values{"id": {f.browserID}}).expectRedirect(t, "/account/security?done=stale")
}

func TestTheSecurityPagesFormsRefuseOtherSites(t *testing.T) {
	f := newSecurityFixture(t)
	h := f.h
	h.passChallenge(t, f.here, "/account/security")
	phone, _, err := h.mfaSvc.Factor(context.Background(), f.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/account/recovery-codes", "/account/phone/remove", "/account/sessions/end",
		"/account/sessions/end-others", "/account/browsers/forget", "/account/browsers/forget-all", "/account/totp/remove"} {
		r := h.do(f.here, "POST", path, url.Values{"id": {phone.ID}, "sid": {f.otherSID(t)}}, "Sec-Fetch-Site", "cross-site")
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, r.status)
		}
	}
	if _, has, err := h.mfaSvc.Factor(context.Background(), f.ann.ID); err != nil || !has || f.sessions(t) != 2 {
		t.Fatal("a cross-site form changed something")
	}
}
