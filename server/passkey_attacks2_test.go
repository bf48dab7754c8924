package server_test

// Second round of attacks on passkeys, the security page and the admin
// console's passkey actions, from the outside (README and docs only).
//
//   - TestAttack2*: a real problem. Each asserts the CORRECT
//     behaviour, so it FAILS while the problem is there.
//   - TestAttack2*: an attack the server refused as it should. They pass.
//
// Run: go run ./cmd/withpostgres -- go test -count=1 -run 'Attack2' ./server/
//
// Failing now (real problems):
//   - TestAttack2AnOldPasskeyAndARecentSMSChangeFactors (high)
//   - TestAttack2ResetWithCodeSetsAPasskeyHoldersPassword (medium)
//   - TestAttack2ResetWithAppCodeSetsAPasskeyHoldersPassword (medium)

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey/passkeytest"
)

// ---------------------------------------------------------------- helpers

var (
	a2PasskeyIDRE = regexp.MustCompile(`action="/account/passkeys/remove">\s*<input type="hidden" name="id" value="([^"]+)"`)
	a2PhoneIDRE   = regexp.MustCompile(`action="/account/phone/remove">\s*<input type="hidden" name="id" value="([^"]+)"`)
)

// a2SMSSession is the phisher's session: ann's password and one relayed
// SMS code, nothing else. It returns the browser and the security page.
func a2SMSSession(t *testing.T, h *harness) (*http.Client, response) {
	t.Helper()
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	h.passChallenge(t, b, "/account/security")
	page := h.do(b, "GET", "/account/security", nil)
	page.expect(t, 200, "security")
	return b, page
}

func a2Match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no match for %s", re)
	}
	return m[1]
}

func a2ToPasskey(r response) bool {
	return r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?")
}

// a2Claims exchanges the code of an authorization response and returns the
// ID token's sub, acr and amr.
func (p *rp) a2Claims(t *testing.T, r response, f flow) (string, string, []string) {
	t.Helper()
	q := callback(t, r)
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub string   `json:"sub"`
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := p.verifyIDToken(t, tok).Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c.Sub, c.ACR, c.AMR
}

// ================================================================ sudo after SMS

// Every change of factors, password, sessions, browsers and recovery codes,
// from a session of a passkey holder that passed only an SMS code (a phisher
// relaying the code), must ask for the passkey.
func TestAttack2SMSAloneChangesNothingForAPasskeyHolder(t *testing.T) {
	type req struct {
		method, path string
		form         func(page response) url.Values
	}
	none := func(response) url.Values { return url.Values{} }
	cases := []struct {
		name  string
		steps []req
		held  func(t *testing.T, h *harness)
	}{
		{"change phone (GET mfa/enroll?change=1)", []req{{"GET", "/mfa/enroll?change=1&return_to=%2Faccount%2Fsecurity", nil}}, nil},
		{"change phone (POST mfa/enroll change=1)", []req{{"POST", "/mfa/enroll?change=1", func(response) url.Values {
			return url.Values{"step": {"phone"}, "change": {"1"}, "country": {"GB"}, "phone": {attackerMobile}, "return_to": {"/account/security"}}
		}}}, nil},
		{"set up an app (GET account/totp)", []req{{"GET", "/account/totp", nil}}, nil},
		{"set up an app (POST account/totp)", []req{{"POST", "/account/totp", func(response) url.Values { return url.Values{"code": {"123456"}} }}}, nil},
		{"remove the app", []req{{"POST", "/account/totp/remove", none}}, nil},
		{"change the password", []req{{"POST", "/account/password", func(response) url.Values {
			return url.Values{"current_password": {goodPassword}, "new_password": {"attacker owns this now"}}
		}}}, func(t *testing.T, h *harness) {
			h.logIn(h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")
		}},
		{"remove the phone", []req{{"POST", "/account/phone/remove", func(p response) url.Values {
			return url.Values{"id": {a2Match(t, a2PhoneIDRE, p.body)}}
		}}}, func(t *testing.T, h *harness) {
			if _, ok, err := h.mfaSvc.Factor(context.Background(), h.userID(t, "ann@example.com")); err != nil || !ok {
				t.Error("the phone was removed")
			}
		}},
		{"regenerate recovery codes", []req{{"POST", "/account/recovery-codes", none}}, nil},
		{"remove the passkey", []req{{"POST", "/account/passkeys/remove", func(p response) url.Values {
			return url.Values{"id": {a2Match(t, a2PasskeyIDRE, p.body)}}
		}}}, func(t *testing.T, h *harness) {
			if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
				t.Errorf("%d passkeys left", n)
			}
		}},
		{"rename the passkey", []req{{"POST", "/account/passkeys/rename", func(p response) url.Values {
			return url.Values{"id": {a2Match(t, a2PasskeyIDRE, p.body)}, "name": {"pwned"}}
		}}}, nil},
		{"log out all other sessions", []req{{"POST", "/account/sessions/end-others", none}}, nil},
		{"forget all browsers", []req{{"POST", "/account/browsers/forget-all", none}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := passkeyHarness(t)
			passkeyUser(t, h)
			h.setPolicy(t, mfa.PolicyNever)
			attacker, page := a2SMSSession(t, h)
			for _, s := range tc.steps {
				var form url.Values
				if s.form != nil {
					form = s.form(page)
				}
				r := h.do(attacker, s.method, s.path, form)
				if !a2ToPasskey(r) {
					t.Errorf("%s %s after password + SMS: %d to %q (screen %q), want the passkey challenge",
						s.method, s.path, r.status, r.header.Get("Location"), r.screen())
				}
			}
			if tc.held != nil {
				tc.held(t, h)
			}
		})
	}
}

// The password reset of a passkey holder who also holds a phone: the link
// and one relayed SMS code set a new password, although "once a passkey is
// on the account, an SMS or app code no longer changes factors (or the
// password)".
func TestAttack2ResetWithCodeSetsAPasskeyHoldersPassword(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // verification
	h.enrollPhone(t, "ann@example.com")
	h.passChallenge(t, b, "/account")
	h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")

	sent := len(h.plivo.Messages())
	rb, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, 200, "reset-challenge")
	r := h.do(rb, "GET", "/reset?with=code", nil)
	t.Logf("reset?with=code: %d screen %q", r.status, r.screen())
	if _, err := h.dispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.plivo.Messages()) - sent; n != 0 {
		t.Errorf("the reset of a passkey holder texted %d codes; it takes no code", n)
	}
	r = h.do(rb, "POST", "/reset", url.Values{"step": {"code"}, "code": {"123456"}})
	t.Logf("reset code step: %d to %q", r.status, r.header.Get("Location"))
	r = h.do(rb, "POST", "/reset", url.Values{"step": {"password"}, "password": {"attacker owns this now"}})
	if r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/login?password_reset") {
		t.Errorf("reset link + SMS code set a passkey holder's password (%d to %q); want the passkey asked", r.status, r.header.Get("Location"))
	}
	if r := h.logIn(h.browser(), "ann@example.com", "attacker owns this now"); r.status == http.StatusSeeOther {
		t.Error("the attacker's new password signs in")
	}
}

// The same with an authenticator app in place of the phone: link + app code.
func TestAttack2ResetWithAppCodeSetsAPasskeyHoldersPassword(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // verification
	secret := h.setUpApp(t, b)       // first factor: the app
	h.clock.Advance(31 * time.Second)
	h.do(b, "GET", "/mfa/totp?return_to=%2Faccount", nil)
	h.do(b, "POST", "/mfa/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}, "return_to": {"/account"}})
	h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")

	rb, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, 200, "reset-challenge")
	h.do(rb, "GET", "/reset?with=code", nil)
	h.clock.Advance(31 * time.Second)
	r := h.do(rb, "POST", "/reset", url.Values{"step": {"code"}, "code": {totpCode(t, secret, h.clock.Now())}})
	t.Logf("reset code step: %d to %q", r.status, r.header.Get("Location"))
	r = h.do(rb, "POST", "/reset", url.Values{"step": {"password"}, "password": {"attacker owns this now"}})
	if r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/login?password_reset") {
		t.Errorf("reset link + app code set a passkey holder's password (%d to %q); want the passkey asked", r.status, r.header.Get("Location"))
	}
}

// ================================================================ amr / acr

// A browser signed in with ann's passkey, then signing in as bob with bob's
// password: bob's tokens must not say phishing-resistant.
func TestAttack2PasskeyOfOneUserDoesNotCarryToTheNextLogin(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	h.signUp(h.browser(), "bob@example.com").expectRedirect(t, "/account")

	b := h.browser()
	h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
	h.logIn(b, "bob@example.com", goodPassword)
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f, attackPR), nil)
	if isCodeRedirect(r) {
		sub, acr, amr := p.a2Claims(t, r, f)
		if sub == h.userID(t, "bob@example.com") {
			t.Fatalf("bob, password only, got a code with acr %q amr %v after ann's passkey in the same browser", acr, amr)
		}
		t.Logf("a code for %s (ann is %s)", sub, h.userID(t, "ann@example.com"))
	}
	// Same, without acr_values: the amr must not name a key.
	f = newFlow()
	r = h.do(b, "GET", p.authURL(f), nil)
	if isCodeRedirect(r) {
		sub, acr, amr := p.a2Claims(t, r, f)
		if sub == h.userID(t, "bob@example.com") && (acr == assurance.PhishingResistant || slices.Contains(amr, "hwk") || slices.Contains(amr, "swk")) {
			t.Fatalf("bob's password-only token says acr %q amr %v", acr, amr)
		}
	}
}

// A passwordless sign-in's tokens do not claim a password; the session's
// own re-login with the password must not lose or fake anything either.
func TestAttack2PasswordlessTokensClaimNoPassword(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	b := h.browser()
	h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
	f := newFlow()
	_, acr, amr := p.a2Claims(t, h.do(b, "GET", p.authURL(f), nil), f)
	t.Logf("passwordless: acr %q amr %v", acr, amr)
	if slices.Contains(amr, "pwd") || slices.Contains(amr, "sms") || acr != assurance.PhishingResistant {
		t.Fatalf("passwordless: acr %q amr %v", acr, amr)
	}
}

// A passwordless session may change factors (it passed a passkey), but the
// password form still needs the current password.
func TestAttack2PasswordlessSessionNeedsTheCurrentPassword(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	b := h.browser()
	h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
	for _, cur := range []string{"", "wrong password entirely"} {
		r := h.do(b, "POST", "/account/password", url.Values{"current_password": {cur}, "new_password": {"attacker owns this now"}})
		t.Logf("current %q: %d to %q alert %q", cur, r.status, r.header.Get("Location"), r.alert())
	}
	h.logIn(h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")
}

// A session that passed a passkey keeps phishing-resistant tokens after the
// passkey is removed (documented: removal ends no session), and so do its
// refresh tokens. Recorded, not asserted.
func TestAttack2RefreshAfterThePasskeyIsRemoved(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	b := h.browser()
	h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
	f := newFlow()
	q := callback(t, h.do(b, "GET", p.authURL(f), nil))
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	h.removePasskeys(t, "ann@example.com")
	h.clock.Advance(time.Minute)
	tok.Expiry = time.Now().Add(-time.Hour)
	nt, err := p.cfg.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Logf("refresh after removal refused: %v", err)
		return
	}
	var c struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if raw, ok := nt.Extra("id_token").(string); ok {
		idt, err := p.provider.Verifier(&oidc.Config{ClientID: spaID, Now: h.clock.Now}).Verify(context.Background(), raw)
		if err == nil {
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("refresh after the passkey was removed: acr %q amr %v", c.ACR, c.AMR)
}

// ================================================================ first factor, begun before another arrived

// The checks must hold where a change is finished, not only where it began:
// each of these begins adding a first factor while ann has none, another
// session adds one meanwhile, then the first finishes.
func TestAttack2FirstFactorCheckedWhenFinished(t *testing.T) {
	setup := func(t *testing.T) (*harness, *http.Client, *http.Client) {
		h := passkeyHarness(t)
		signedInBrowser(t, h)
		h.setPolicy(t, mfa.PolicyNever)
		a, b := h.browser(), h.browser()
		h.logIn(a, "ann@example.com", goodPassword).expectRedirect(t, "/account")
		h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
		return h, a, b
	}
	t.Run("passkey begun, phone added, passkey finished", func(t *testing.T) {
		h, a, b := setup(t)
		page := h.do(a, "GET", "/account/passkeys/new", nil)
		page.expect(t, 200, "passkey-enroll")
		id, opts := ceremonyOf(t, page)
		resp, err := passkeytest.New(h.issuerOrigin()).Register(opts)
		if err != nil {
			t.Fatal(err)
		}
		h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}}).expect(t, http.StatusSeeOther, "")
		h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {h.sendSMS(t)}}).expect(t, 200, "recovery")
		r := h.do(a, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"k"}, "response": {string(resp)}})
		if n := h.passkeyCount(t, "ann@example.com"); n != 0 {
			t.Errorf("a passkey begun with no factor was added after the phone arrived (%d to %q)", r.status, r.header.Get("Location"))
		}
	})
	t.Run("app begun, passkey added, app finished", func(t *testing.T) {
		h, a, b := setup(t)
		setup := h.do(a, "GET", "/account/totp", nil)
		setup.expect(t, 200, "totp-setup")
		secret := totpSecretRE.FindStringSubmatch(setup.body)[1]
		h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
		r := h.do(a, "POST", "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}})
		if r.header.Get("Location") == "/account/security?done=app-added" {
			t.Errorf("an app begun with no factor was added after the passkey arrived")
		}
	})
	t.Run("phone begun, passkey added, phone finished", func(t *testing.T) {
		h, a, b := setup(t)
		h.do(a, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}}).expect(t, http.StatusSeeOther, "")
		code := h.sendSMS(t)
		h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
		r := h.do(a, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}})
		if _, ok, err := h.mfaSvc.Factor(context.Background(), h.userID(t, "ann@example.com")); err != nil || ok {
			t.Errorf("a phone begun with no factor was added after the passkey arrived (%d to %q, screen %q)", r.status, r.header.Get("Location"), r.screen())
		}
	})
}

// Two sessions with only the password race a first passkey against a first
// phone, or against a first app: at most one first factor.
func TestAttack2FirstFactorRaces(t *testing.T) {
	for _, other := range []string{"phone", "app"} {
		t.Run(other, func(t *testing.T) {
			for round := 0; round < 4; round++ {
				h := passkeyHarness(t)
				signedInBrowser(t, h)
				h.setPolicy(t, mfa.PolicyNever)
				a, b := h.browser(), h.browser()
				h.logIn(a, "ann@example.com", goodPassword).expectRedirect(t, "/account")
				h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
				page := h.do(a, "GET", "/account/passkeys/new", nil)
				id, opts := ceremonyOf(t, page)
				resp, err := passkeytest.New(h.issuerOrigin()).Register(opts)
				if err != nil {
					t.Fatal(err)
				}
				passkeyForm := url.Values{"ceremony": {id}, "name": {"k"}, "response": {string(resp)}}
				var otherPath string
				var otherForm url.Values
				if other == "phone" {
					h.do(b, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}})
					otherPath, otherForm = "/mfa/enroll", url.Values{"step": {"code"}, "code": {h.sendSMS(t)}}
				} else {
					s := h.do(b, "GET", "/account/totp", nil)
					secret := totpSecretRE.FindStringSubmatch(s.body)[1]
					otherPath, otherForm = "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}}
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				wg.Add(2)
				go func() { defer wg.Done(); <-start; h.do(a, "POST", "/account/passkeys", passkeyForm) }()
				go func() { defer wg.Done(); <-start; h.do(b, "POST", otherPath, otherForm) }()
				close(start)
				wg.Wait()
				ctx := context.Background()
				uid := h.userID(t, "ann@example.com")
				n := h.passkeyCount(t, "ann@example.com")
				_, phone, err := h.mfaSvc.Factor(ctx, uid)
				if err != nil {
					t.Fatal(err)
				}
				u, err := h.st.UserByEmail(ctx, "ann@example.com")
				if err != nil {
					t.Fatal(err)
				}
				sec := h.do(a, "GET", "/account/security", nil)
				app := strings.Contains(sec.body, "account/totp/remove")
				_ = u
				factors := n
				if phone {
					factors++
				}
				if app {
					factors++
				}
				if factors > 1 {
					t.Fatalf("round %d: both first factors added at once (passkeys %d, phone %v, app %v)", round, n, phone, app)
				}
			}
		})
	}
}

// ================================================================ passwordless ceremony limit

func (h *harness) a2Options(xff string) int {
	if xff == "" {
		return h.do(h.browser(), "POST", "/login/passkey/options", nil).status
	}
	return h.do(h.browser(), "POST", "/login/passkey/options", nil, "X-Forwarded-For", xff).status
}

// With no trusted proxy, X-Forwarded-For is the client's own word: a new
// value on each request must not buy new ceremonies.
func TestAttack2ForwardedForDoesNotBypassTheCeremonyLimitWithoutAProxy(t *testing.T) {
	h := passkeyHarness(t)
	refused := 0
	for i := 0; i < 80; i++ {
		if h.a2Options(fmt.Sprintf("198.51.100.%d, 2001:db8:%x::1", i, i)) == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 20 {
		t.Fatalf("80 requests with spoofed X-Forwarded-For: %d refused, want 20", refused)
	}
}

func a2ProxyHarness(t *testing.T) *harness {
	return newHarness(t, func(o *options) {
		o.plivo, o.localhost = true, true
		o.proxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
}

// Behind a trusted proxy: the limit is per client address, the same address
// written as IPv4-mapped IPv6 is the same address, an IPv6 /64 is one
// address, a spoofed left part of the chain changes nothing, and another
// address is not blocked.
func TestAttack2CeremonyLimitBehindAProxy(t *testing.T) {
	h := a2ProxyHarness(t)
	flood := func(first func(i int) string, n int) int {
		refused := 0
		for i := 0; i < n; i++ {
			if h.a2Options(first(i)) == http.StatusTooManyRequests {
				refused++
			}
		}
		return refused
	}
	if r := flood(func(int) string { return "198.51.100.7" }, 60); r != 0 {
		t.Fatalf("%d of the first 60 refused", r)
	}
	for _, same := range []string{"198.51.100.7", "::ffff:198.51.100.7", "::FFFF:c633:6407", "evil, 198.51.100.7", "10.0.0.1, 198.51.100.7",
		"198.51.100.7, 127.0.0.1"} {
		if st := h.a2Options(same); st != http.StatusTooManyRequests {
			t.Errorf("after 60 from 198.51.100.7, X-Forwarded-For %q: %d, want 429", same, st)
		}
	}
	if st := h.a2Options("198.51.100.8"); st != 200 {
		t.Errorf("another address blocked by one address's flood: %d", st)
	}
	// IPv6: 60 from one /64 with a new interface id each time.
	if r := flood(func(i int) string { return fmt.Sprintf("2001:db8:1:2:%x::%x", i, i+1) }, 60); r != 0 {
		t.Fatalf("%d of the first 60 from a /64 refused", r)
	}
	for _, same := range []string{"2001:db8:1:2:ffff::1", "2001:db8:1:2::dead:beef", "2001:db8:1:2::1%eth0"} {
		if st := h.a2Options(same); st != http.StatusTooManyRequests {
			t.Errorf("after 60 from 2001:db8:1:2::/64, %q: %d, want 429", same, st)
		}
	}
	if st := h.a2Options("2001:db8:1:3::1"); st != 200 {
		t.Errorf("the next /64 blocked: %d", st)
	}
	// A forwarded value that is not an address (a proxy writing ip:port,
	// or brackets) falls back to the proxy's own address: recorded.
	for _, odd := range []string{"[::ffff:198.51.100.7]", "198.51.100.7:4444", "junk"} {
		t.Logf("X-Forwarded-For %q after the flood: %d", odd, h.a2Options(odd))
	}
	// Ten minutes later the address may begin again.
	h.clock.Advance(11 * time.Minute)
	if st := h.a2Options("198.51.100.7"); st != 200 {
		t.Errorf("11 minutes later: %d, want 200", st)
	}
}

// Many addresses each at their limit: a fresh address and a real user still
// sign in with a passkey.
func TestAttack2ManyAddressesDoNotBlockOthers(t *testing.T) {
	h := a2ProxyHarness(t)
	_, a := passkeyUser(t, h)
	for ip := 0; ip < 30; ip++ {
		for i := 0; i < 61; i++ {
			h.a2Options(fmt.Sprintf("203.0.113.%d", ip))
		}
	}
	if st := h.a2Options("192.0.2.44"); st != 200 {
		t.Fatalf("a fresh address after 30 floods: %d", st)
	}
	b := h.browser()
	r := h.do(b, "POST", "/login/passkey/options", nil, "X-Forwarded-For", "192.0.2.45")
	if r.status != 200 {
		t.Fatalf("ann's options: %d", r.status)
	}
	_ = a
}

// ================================================================ admin removal of passkeys

// Console: the credential of ann posted on bob's page removes nothing; a
// form without the CSRF token, or with another session's, removes nothing.
func TestAttack2AdminConsoleRemovePasskeyIDORAndCSRF(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	_, a := passkeyUser(t, h)
	h.signUp(h.browser(), "bob@example.com").expectRedirect(t, "/account")
	bobPage := "/admin/users/" + h.userID(t, "bob@example.com")
	annPage := "/admin/users/" + h.userID(t, "ann@example.com")
	admin := h.adminBrowser(t)
	cred := credentialID(a)

	r := h.adminPost(t, admin, bobPage, bobPage+"/remove-passkey", url.Values{"credential": {cred}})
	t.Logf("ann's credential on bob's page: %d to %q", r.status, r.header.Get("Location"))
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann's passkey removed through bob's page")
	}
	r = h.do(admin, "POST", annPage+"/remove-passkey", url.Values{"credential": {cred}})
	t.Logf("no csrf: %d", r.status)
	r = h.do(admin, "POST", annPage+"/remove-passkey", url.Values{"credential": {cred}, "csrf": {"x"}})
	t.Logf("junk csrf: %d", r.status)
	other := h.adminBrowser(t)
	m := csrfRE.FindStringSubmatch(h.do(other, "GET", annPage, nil).body)
	r = h.do(admin, "POST", annPage+"/remove-passkey", url.Values{"credential": {cred}, "csrf": {m[1]}})
	t.Logf("another session's csrf: %d", r.status)
	// Cross-site: a form posted from another origin, with the right token.
	m = csrfRE.FindStringSubmatch(h.do(admin, "GET", annPage, nil).body)
	r = h.do(admin, "POST", annPage+"/remove-passkey", url.Values{"credential": {cred}, "csrf": {m[1]}},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	t.Logf("cross-site with the right token: %d", r.status)
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann's passkey removed without a valid same-site CSRF token")
	}
}

// An admin without any second factor, signed in with the password, removes
// no one's passkey.
func TestAttack2AdminWithoutASecondFactorRemovesNoPasskey(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	_, a := passkeyUser(t, h)
	if _, err := h.accounts.CreateUser(context.Background(), "eve@example.com", "Eve", goodPassword, true, account.Meta{}); err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyNever)
	eve := h.browser()
	h.logIn(eve, "eve@example.com", goodPassword)
	r := h.do(eve, "GET", "/admin/", nil)
	t.Logf("admin without a factor at the console: %d to %q", r.status, r.header.Get("Location"))
	annPage := "/admin/users/" + h.userID(t, "ann@example.com")
	r = h.do(eve, "POST", annPage+"/remove-passkey", url.Values{"credential": {credentialID(a)}})
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("an admin with only a password removed ann's passkey (%d to %q)", r.status, r.header.Get("Location"))
	}
}

// An admin who holds a passkey and a phone: a session that passed only the
// SMS (a relayed code) must not remove the admin's own passkey, nor reset
// the admin's own MFA, through the console: the factors of a passkey holder
// change only after a passkey.
func TestAttack2AdminConsoleOwnFactorsNeedAPasskeyAfterSMS(t *testing.T) {
	for _, action := range []string{"remove-passkey", "reset-mfa"} {
		t.Run(action, func(t *testing.T) {
			h := newAdminHarness(t, func(o *options) { o.localhost = true })
			owner := h.adminBrowser(t)
			h.addPasskey(t, owner, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
			// The account page asks a passkey of an SMS session...
			attacker := h.browser()
			h.logIn(attacker, adminEmail, goodPassword)
			h.passChallenge(t, attacker, "/admin/")
			if r := h.do(attacker, "GET", "/admin/", nil); r.status != 200 {
				t.Fatalf("console after SMS: %d to %q", r.status, r.header.Get("Location"))
			}
			if r := h.do(attacker, "GET", "/account/passkeys/new", nil); !a2ToPasskey(r) {
				t.Fatalf("account page: %d to %q", r.status, r.header.Get("Location"))
			}
			// ...the console, on oneself?
			self := "/admin/users/" + h.userID(t, adminEmail)
			page := h.do(attacker, "GET", self, nil)
			form := url.Values{}
			if action == "remove-passkey" {
				m := regexp.MustCompile(`name="credential" value="([^"]+)"`).FindStringSubmatch(page.body)
				if m == nil {
					t.Fatalf("the admin's own page lists no passkey (%d)", page.status)
				}
				form.Set("credential", m[1])
			}
			r := h.adminPost(t, attacker, self, self+"/"+action, form)
			if n := h.passkeyCount(t, adminEmail); n != 1 {
				t.Errorf("%s on oneself after password + SMS: %d to %q, the admin's passkey is gone; want the passkey asked",
					action, r.status, r.header.Get("Location"))
			}
		})
	}
}

// ================================================================ credential ids

// Bob registers a credential whose id is ann's: refused (not a 500), ann's
// passkey untouched, and bob's key signs in as nobody.
func TestAttack2ACredentialIDOfAnotherUserIsRefused(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	annCred := a.CredentialIDs()[0]
	bob := h.browser()
	h.signUp(bob, "bob@example.com").expectRedirect(t, "/account")
	evil := passkeytest.New(h.issuerOrigin())
	evil.NextCredentialID = annCred
	r := h.addPasskey(t, bob, evil)
	t.Logf("bob registers ann's credential id: %d to %q alert %q", r.status, r.header.Get("Location"), r.alert())
	if r.status >= 500 {
		t.Errorf("a duplicate credential id: %d, want a refusal the user can read", r.status)
	}
	if n := h.passkeyCount(t, "bob@example.com"); n != 0 {
		t.Errorf("bob holds %d passkeys with ann's credential id", n)
	}
	// Ann still signs in with hers; bob's key signs no one in.
	h.passwordless(t, h.browser(), a, "/account").expectRedirect(t, "/account")
	b := h.browser()
	if r := h.passwordless(t, b, evil, "/account"); r.status == http.StatusSeeOther {
		t.Errorf("the key with ann's credential id signed in: %d to %q", r.status, r.header.Get("Location"))
	}
	// A credential id over WebAuthn's 1023 bytes.
	long := passkeytest.New(h.issuerOrigin())
	long.NextCredentialID = []byte(strings.Repeat("L", 1500))
	if r := h.addPasskey(t, bob, long); r.status >= 500 {
		t.Errorf("a 1500-byte credential id: %d", r.status)
	}
}

// ================================================================ 500s

// a2Mutate takes a JSON answer, applies f to it, and returns it re-encoded.
func a2Mutate(t *testing.T, resp []byte, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func a2Inner(m map[string]any) map[string]any { return m["response"].(map[string]any) }

// Malformed answers to live ceremonies: each is refused with a 4xx.
func TestAttack2MalformedAnswersAreRefusedNot500(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	owner := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	a := passkeytest.New(h.issuerOrigin())
	h.addPasskey(t, owner, a).expectRedirect(t, "/account/security?done=passkey-added")
	h.passPasskey(t, owner, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", a).expectRedirect(t, "/account/security")

	deep := strings.Repeat("[", 30000) + strings.Repeat("]", 30000)
	longHandle := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("u", 5000)))
	assertMutations := map[string]func(m map[string]any){
		"userHandle 3 bytes":    func(m map[string]any) { a2Inner(m)["userHandle"] = "YWJj" },
		"userHandle 5000 bytes": func(m map[string]any) { a2Inner(m)["userHandle"] = longHandle },
		"userHandle not base64": func(m map[string]any) { a2Inner(m)["userHandle"] = "!!!" },
		"userHandle a number":   func(m map[string]any) { a2Inner(m)["userHandle"] = 7 },
		"userHandle nil uuid": func(m map[string]any) {
			a2Inner(m)["userHandle"] = base64.RawURLEncoding.EncodeToString(make([]byte, 16))
		},
		"authenticatorData short": func(m map[string]any) { a2Inner(m)["authenticatorData"] = "AAAA" },
		"authenticatorData empty": func(m map[string]any) { a2Inner(m)["authenticatorData"] = "" },
		"signature garbage":       func(m map[string]any) { a2Inner(m)["signature"] = "AAAA" },
		"clientDataJSON not json": func(m map[string]any) { a2Inner(m)["clientDataJSON"] = "bm90IGpzb24" },
		"clientDataJSON deep": func(m map[string]any) {
			a2Inner(m)["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte(deep[:20000] + deep[40000:]))
		},
		"id and rawId differ": func(m map[string]any) { m["rawId"] = "AAAA" },
		"id empty":            func(m map[string]any) { m["id"], m["rawId"] = "", "" },
		"id 2000 bytes":       func(m map[string]any) { m["id"] = strings.Repeat("A", 2000); m["rawId"] = m["id"] },
		"response null":       func(m map[string]any) { m["response"] = nil },
		"type wrong":          func(m map[string]any) { m["type"] = "password" },
		"extensions odd": func(m map[string]any) {
			m["clientExtensionResults"] = map[string]any{"appid": "x", "credProps": []any{1}}
		},
	}
	raws := []string{deep[:30000] + deep[30000+30000-30000:], "null", "[]", `"x"`, "{}", `{"response":{}}`, "\x00", `{"id":{"a":1}}`}

	type door struct {
		name  string
		begin func() (*http.Client, string, []byte) // browser, ceremony, options
		post  func(b *http.Client, id, resp string) response
	}
	doors := []door{
		{"passwordless", func() (*http.Client, string, []byte) {
			b := h.browser()
			id, o := h.passwordlessOptions(t, b)
			return b, id, o
		}, func(b *http.Client, id, resp string) response {
			return h.do(b, "POST", "/login/passkey", url.Values{"ceremony": {id}, "response": {resp}})
		}},
		{"second factor", func() (*http.Client, string, []byte) {
			id, o := ceremonyOf(t, h.do(owner, "GET", "/mfa/passkey?return_to=%2Faccount", nil))
			return owner, id, o
		}, func(b *http.Client, id, resp string) response {
			return h.do(b, "POST", "/mfa/passkey", url.Values{"ceremony": {id}, "response": {resp}})
		}},
	}
	for _, d := range doors {
		for name, mut := range assertMutations {
			b, id, opts := d.begin()
			resp, err := a.Assert(opts)
			if err != nil {
				t.Fatal(err)
			}
			a.Counter-- // the answer was not used
			if r := d.post(b, id, a2Mutate(t, resp, mut)); r.status >= 500 {
				t.Errorf("%s, %s: %d", d.name, name, r.status)
			}
		}
		for _, raw := range raws {
			b, id, _ := d.begin()
			if r := d.post(b, id, raw); r.status >= 500 {
				t.Errorf("%s, raw %.20q: %d", d.name, raw, r.status)
			}
		}
	}

	// Registration: odd answers and odd names.
	regMutations := map[string]func(m map[string]any){
		"attestationObject garbage": func(m map[string]any) { a2Inner(m)["attestationObject"] = "AAAA" },
		"attestationObject empty":   func(m map[string]any) { a2Inner(m)["attestationObject"] = "" },
		"attestationObject cbor map": func(m map[string]any) {
			a2Inner(m)["attestationObject"] = base64.RawURLEncoding.EncodeToString([]byte{0xa1, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e'})
		},
		"transports odd":    func(m map[string]any) { a2Inner(m)["transports"] = []any{strings.Repeat("x", 5000), 1, nil} },
		"publicKey garbage": func(m map[string]any) { a2Inner(m)["publicKey"] = "!!"; a2Inner(m)["publicKeyAlgorithm"] = "x" },
		"clientDataJSON not json": func(m map[string]any) {
			a2Inner(m)["clientDataJSON"] = "bm90IGpzb24"
		},
	}
	register := func(name string, mut func(map[string]any)) response {
		page := h.do(owner, "GET", "/account/passkeys/new", nil)
		page.expect(t, 200, "passkey-enroll")
		id, opts := ceremonyOf(t, page)
		resp, err := passkeytest.New(h.issuerOrigin()).Register(opts)
		if err != nil {
			t.Fatal(err)
		}
		body := string(resp)
		if mut != nil {
			body = a2Mutate(t, resp, mut)
		}
		return h.do(owner, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {name}, "response": {body}})
	}
	for mname, mut := range regMutations {
		if r := register("k", mut); r.status >= 500 {
			t.Errorf("registration, %s: %d", mname, r.status)
		}
	}
	for _, name := range []string{"a\x00b", "\xff\xfe", strings.Repeat("é", 64), strings.Repeat("x", 5000), "", "\u202e\u200b"} {
		if r := register(name, nil); r.status >= 500 {
			t.Errorf("registration named %.20q: %d", name, r.status)
		}
	}
	// Reset: odd answers to the reset's ceremony.
	rb, page := h.followResetLink(t, "ann@example.com")
	for name, mut := range assertMutations {
		id, opts := ceremonyOf(t, page)
		resp, err := a.Assert(opts)
		if err != nil {
			t.Fatal(err)
		}
		a.Counter--
		if r := h.do(rb, "POST", "/reset", url.Values{"step": {"passkey"}, "ceremony": {id}, "response": {a2Mutate(t, resp, mut)}}); r.status >= 500 {
			t.Errorf("reset, %s: %d", name, r.status)
		}
		page = h.do(rb, "GET", "/reset", nil)
	}
}

// Odd ids on the admin side: console and API.
func TestAttack2AdminPasskeyIDsAreRefusedNot500(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	passkeyUser(t, h)
	admin := h.adminBrowser(t)
	annPage := "/admin/users/" + h.userID(t, "ann@example.com")
	for _, cred := range []string{"", "\x00", "\xff\xfe", strings.Repeat("A", 20000), "AAAA====", "%00", "a/b", "../x"} {
		r := h.adminPost(t, admin, annPage, annPage+"/remove-passkey", url.Values{"credential": {cred}})
		if r.status >= 500 {
			t.Errorf("console remove-passkey credential %.20q: %d", cred, r.status)
		}
	}
	m := csrfRE.FindStringSubmatch(h.do(admin, "GET", annPage, nil).body)
	for _, uid := range []string{"not-a-uuid", "%00", "%FF", strings.Repeat("9", 3000), "00000000-0000-0000-0000-000000000000"} {
		r := h.do(admin, "POST", "/admin/users/"+uid+"/remove-passkey", url.Values{"credential": {"AAAA"}, "csrf": {m[1]}})
		if r.status >= 500 {
			t.Errorf("console remove-passkey for user %.20q: %d", uid, r.status)
		}
		if r := h.do(admin, "GET", "/admin/users/"+uid, nil); r.status >= 500 {
			t.Errorf("console user page %.20q: %d", uid, r.status)
		}
	}
	c := h.newAPIClient(t, "support", "read:users", "update:users")
	annID := h.userID(t, "ann@example.com")
	for _, path := range []string{
		"/api/admin/users/" + annID + "/passkeys/%00",
		"/api/admin/users/" + annID + "/passkeys/%FF%FE",
		"/api/admin/users/" + annID + "/passkeys/" + strings.Repeat("A", 20000),
		"/api/admin/users/" + annID + "/passkeys/%2F",
		"/api/admin/users/not-a-uuid/passkeys/AAAA",
		"/api/admin/users/%00/passkeys/AAAA",
		"/api/admin/users/00000000-0000-0000-0000-000000000000/passkeys/AAAA",
	} {
		if r := c.call(t, "DELETE", path, ""); r.status >= 500 {
			t.Errorf("DELETE %.80s: %d %s", path, r.status, r.raw)
		}
	}
	for _, body := range []string{strings.Repeat("[", 100000), `{"blocked":` + strings.Repeat("[", 50000) + `}`, "\x00", `{"admin":"yes"}`} {
		if r := c.call(t, "PATCH", "/api/admin/users/"+annID, body); r.status >= 500 {
			t.Errorf("PATCH with %.20q: %d", body, r.status)
		}
	}
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann has %d passkeys", n)
	}
}

// ================================================================ sudo: what counts as "a passkey within 15 minutes"

// A session that passed the passkey 16 minutes ago, then an SMS code (the
// passkey screen offers "Text me a code instead"): the SMS is recent, the
// passkey is not, so factors must not change. They do: the old passkey and
// the fresh SMS together open sudo mode, and a stolen session cookie plus
// one relayed SMS code adds the attacker's passkey.
func TestAttack2AnOldPasskeyAndARecentSMSChangeFactors(t *testing.T) {
	for _, start := range []string{"password then passkey", "passwordless"} {
		t.Run(start, func(t *testing.T) {
			h := passkeyHarness(t)
			_, a := passkeyUser(t, h)
			h.setPolicy(t, mfa.PolicyNever)
			b := h.browser()
			if start == "passwordless" {
				h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
			} else {
				h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
				h.passPasskey(t, b, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", a).expectRedirect(t, "/account/security")
			}
			h.clock.Advance(16 * time.Minute)
			// Sudo has lapsed: the passkey is asked.
			if r := h.do(b, "GET", "/account/passkeys/new", nil); !a2ToPasskey(r) {
				t.Fatalf("16 min later: %d to %q, want the passkey", r.status, r.header.Get("Location"))
			}
			// The stolen session picks "Text me a code instead" with a relayed code.
			h.passChallenge(t, b, "/account/security")
			for _, c := range []struct{ method, path string }{
				{"GET", "/account/passkeys/new"}, {"GET", "/account/totp"}, {"GET", "/mfa/enroll?change=1"},
				{"POST", "/account/recovery-codes"}, {"POST", "/account/sessions/end-others"},
			} {
				var form url.Values
				if c.method == "POST" {
					form = url.Values{}
				}
				if r := h.do(b, c.method, c.path, form); !a2ToPasskey(r) {
					t.Errorf("%s %s, passkey 16 min ago and SMS just now: %d to %q, want the passkey", c.method, c.path, r.status, r.header.Get("Location"))
				}
			}
			page := h.do(b, "GET", "/account/passkeys/new", nil)
			if page.status == 200 {
				id, opts := ceremonyOf(t, page)
				resp, err := passkeytest.New(h.issuerOrigin()).Register(opts)
				if err != nil {
					t.Fatal(err)
				}
				h.do(b, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"evil"}, "response": {string(resp)}})
			}
			if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
				t.Errorf("ann holds %d passkeys: the attacker's was added with an old passkey and a fresh SMS", n)
			}
		})
	}
}

// A recovery code is a way through a challenge, not a passkey: a session of
// a passkey holder that used one changes no factor.
func TestAttack2ARecoveryCodeChangesNoFactorOfAPasskeyHolder(t *testing.T) {
	h := passkeyHarness(t)
	passkeyUser(t, h)
	codes, err := h.mfaSvc.IssueRecoveryCodes(context.Background(), h.userID(t, "ann@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	h.setPolicy(t, mfa.PolicyAlways)
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword)
	for _, path := range []string{"/mfa/challenge", "/mfa/totp"} {
		r := h.do(b, "POST", path, url.Values{"step": {"recovery"}, "recovery_code": {codes[0]}, "return_to": {"/account"}})
		t.Logf("recovery code at %s: %d to %q", path, r.status, r.header.Get("Location"))
		if r.status == http.StatusSeeOther && r.header.Get("Location") == "/account" {
			break
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/account/passkeys/new"}, {"GET", "/account/totp"}, {"GET", "/mfa/enroll?change=1"}, {"POST", "/account/recovery-codes"},
	} {
		var form url.Values
		if c.method == "POST" {
			form = url.Values{}
		}
		if r := h.do(b, c.method, c.path, form); !a2ToPasskey(r) {
			t.Errorf("%s %s after a recovery code: %d to %q, want the passkey", c.method, c.path, r.status, r.header.Get("Location"))
		}
	}
}

// A user whose only factor is a passkey: a password-only session adds no
// phone and no app as if she had no factor.
func TestAttack2PasskeyOnlyUserGetsNoPhoneOrAppFromAPassword(t *testing.T) {
	h := passkeyHarness(t)
	b := signedInBrowser(t, h)
	h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
	h.setPolicy(t, mfa.PolicyNever)
	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/mfa/enroll?return_to=%2Faccount%2Fsecurity", nil},
		{"POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}}},
		{"GET", "/account/totp", nil},
		{"POST", "/account/totp", url.Values{"code": {"123456"}}},
	} {
		if r := h.do(attacker, c.method, c.path, c.form); !a2ToPasskey(r) {
			t.Errorf("%s %s, password only, passkey-only user: %d to %q (screen %q), want the passkey", c.method, c.path, r.status, r.header.Get("Location"), r.screen())
		}
	}
	if _, ok, err := h.mfaSvc.Factor(context.Background(), h.userID(t, "ann@example.com")); err != nil || ok {
		t.Error("the attacker's phone was added")
	}
}

// Passkeys turned off by the admin: a user whose only factor is a passkey
// must not look factorless, or a password alone would add the attacker's
// phone or app as her "first" factor (which then passes her sign-ins).
func TestAttack2PasskeysOffDoNotMakeAPasskeyHolderFactorless(t *testing.T) {
	h := passkeyHarness(t)
	b := signedInBrowser(t, h)
	h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
	h.setPolicy(t, mfa.PolicyNever)
	h.attackSetting(t, "mfa_passkeys_enabled", "false")
	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")

	r := h.do(attacker, "POST", "/mfa/enroll", url.Values{"step": {"phone"}, "country": {"GB"}, "phone": {attackerMobile}})
	t.Logf("enroll phone: %d to %q screen %q alert %q", r.status, r.header.Get("Location"), r.screen(), r.alert())
	if r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/mfa/enroll") {
		code := h.sendSMS(t)
		r = h.do(attacker, "POST", "/mfa/enroll", url.Values{"step": {"code"}, "code": {code}})
		t.Logf("enroll code: %d to %q screen %q", r.status, r.header.Get("Location"), r.screen())
	}
	setup := h.do(attacker, "GET", "/account/totp", nil)
	t.Logf("totp setup: %d to %q screen %q", setup.status, setup.header.Get("Location"), setup.screen())
	if m := totpSecretRE.FindStringSubmatch(setup.body); m != nil {
		r := h.do(attacker, "POST", "/account/totp", url.Values{"code": {totpCode(t, m[1], h.clock.Now())}})
		t.Logf("totp: %d to %q", r.status, r.header.Get("Location"))
	}
	ctx := context.Background()
	uid := h.userID(t, "ann@example.com")
	if _, ok, err := h.mfaSvc.Factor(ctx, uid); err != nil || ok {
		t.Error("with passkeys off, a password alone added the attacker's phone to a passkey holder")
	}
	if sec := h.do(b, "GET", "/account/security", nil); strings.Contains(sec.body, "account/totp/remove") {
		t.Error("with passkeys off, a password alone added the attacker's app to a passkey holder")
	}
}
