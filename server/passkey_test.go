package server_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey/passkeytest"
)

// Passkeys over HTTP, with a software authenticator standing in for the
// browser's WebAuthn call: it signs exactly what a browser would send.

var (
	ceremonyRE = regexp.MustCompile(`data-ceremony="([^"]*)"`)
	optionsRE  = regexp.MustCompile(`data-options="([^"]*)"`)
)

func passkeyHarness(t *testing.T) *harness {
	return newHarness(t, func(o *options) { o.plivo, o.localhost = true, true })
}

// ceremonyOf reads the ceremony a page hands its script.
func ceremonyOf(t *testing.T, r response) (id string, options []byte) {
	t.Helper()
	c, o := ceremonyRE.FindStringSubmatch(r.body), optionsRE.FindStringSubmatch(r.body)
	if c == nil || o == nil {
		t.Fatalf("page %q (%d) runs no passkey ceremony:\n%s", r.screen(), r.status, r.body)
	}
	return html.UnescapeString(c[1]), []byte(html.UnescapeString(o[1]))
}

// addPasskey registers a passkey of authenticator a from browser b, which
// must be allowed to (a recent second factor, or no factor yet).
func (h *harness) addPasskey(t *testing.T, b *http.Client, a *passkeytest.Authenticator) response {
	t.Helper()
	page := h.do(b, "GET", "/account/passkeys/new", nil)
	page.expect(t, 200, "passkey-enroll")
	id, opts := ceremonyOf(t, page)
	resp, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(b, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"Laptop"}, "response": {string(resp)}})
}

// passPasskey answers the passkey screen at path with authenticator a.
func (h *harness) passPasskey(t *testing.T, b *http.Client, path string, a *passkeytest.Authenticator) response {
	t.Helper()
	page := h.do(b, "GET", path, nil)
	page.expect(t, 200, "passkey")
	id, opts := ceremonyOf(t, page)
	resp, err := a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(b, "POST", "/mfa/passkey", url.Values{"ceremony": {id}, "response": {string(resp)},
		"return_to": {u.Query().Get("return_to")}})
}

// passwordless signs browser b in with authenticator a alone, as the login
// page's script does.
func (h *harness) passwordless(t *testing.T, b *http.Client, a *passkeytest.Authenticator, returnTo string) response {
	t.Helper()
	ceremony, options := h.passwordlessOptions(t, b)
	resp, err := a.Assert(options)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(b, "POST", "/login/passkey", url.Values{"ceremony": {ceremony}, "response": {string(resp)}, "return_to": {returnTo}})
}

// passwordlessOptions asks for a passwordless ceremony in browser b.
func (h *harness) passwordlessOptions(t *testing.T, b *http.Client) (string, json.RawMessage) {
	t.Helper()
	r := h.do(b, "POST", "/login/passkey/options", url.Values{"kind": {"discoverable"}})
	if r.status != 200 {
		t.Fatalf("passkey options: %d %s", r.status, r.body)
	}
	var o struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal([]byte(r.body), &o); err != nil {
		t.Fatal(err)
	}
	return o.Ceremony, o.Options
}

// passkeyUser is ann, signed in, with a phone and a passkey added after the
// phone's challenge.
func passkeyUser(t *testing.T, h *harness) (*http.Client, *passkeytest.Authenticator) {
	t.Helper()
	b := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	h.passChallenge(t, b, "/account")
	a := passkeytest.New(h.issuerOrigin())
	h.addPasskey(t, b, a).expectRedirect(t, "/account/security?done=passkey-added")
	return b, a
}

func (h *harness) issuerOrigin() string { return strings.TrimSuffix(h.issuer, "/") }

func TestAPasskeyAddedAfterTheSMSIsOfferedFirstAndSendsNoSMS(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	sent := len(h.plivo.Messages())

	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	r := h.do(b, "GET", "/account", nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("password login of a passkey holder: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	h.passPasskey(t, b, r.header.Get("Location"), a).expectRedirect(t, "/account")
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
	if n := len(h.plivo.Messages()) - sent; n != 0 {
		t.Fatalf("%d SMS sent to a user who passed a passkey", n)
	}
}

func TestPasskeySignInTokensSayPhishingResistant(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)

	b := h.browser()
	stepUp := oauth2.SetAuthURLParam("acr_values", assurance.PhishingResistant)
	r, _ := h.authorizeAfterPassword(t, p, b, stepUp)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("acr_values phishing-resistant under never: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	h.passPasskey(t, b, r.header.Get("Location"), a)
	f := newFlow()
	acr, amr := p.exchangeForACR(t, h.do(b, "GET", p.authURL(f, stepUp), nil), f)
	if acr != assurance.PhishingResistant || !slices.Contains(amr, "mfa") ||
		!slices.ContainsFunc(amr, func(m string) bool { return m == "hwk" || m == "swk" }) {
		t.Fatalf("ID token acr %q amr %v, want phishing-resistant with hwk or swk and mfa", acr, amr)
	}
}

func TestPasswordlessSignInCountsAsTwoFactors(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	sent := len(h.plivo.Messages())

	b := h.browser()
	h.do(b, "GET", "/login", nil).expect(t, 200, "login")
	h.passwordless(t, b, a, "/account").expectRedirect(t, "/account")
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
	if n := len(h.plivo.Messages()) - sent; n != 0 {
		t.Fatalf("%d SMS sent after a passwordless sign-in", n)
	}
}

func TestPasswordlessSignInRefuses(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(h *harness, a *passkeytest.Authenticator)
		status int
	}{
		{"a passkey that did not verify the user", func(_ *harness, a *passkeytest.Authenticator) { a.UserVerified = false }, http.StatusUnauthorized},
		{"an answer made for another site", func(_ *harness, a *passkeytest.Authenticator) { a.Origin = "https://evil.example" }, http.StatusUnauthorized},
		{"a blocked user", func(h *harness, _ *passkeytest.Authenticator) { h.block(t, "ann@example.com") }, http.StatusForbidden},
		{"a passkey removed meanwhile", func(h *harness, _ *passkeytest.Authenticator) { h.removePasskeys(t, "ann@example.com") }, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := passkeyHarness(t)
			_, a := passkeyUser(t, h)
			tc.tamper(h, a)
			b := h.browser()
			r := h.passwordless(t, b, a, "/account")
			r.expect(t, tc.status, "login")
			if h.do(b, "GET", "/account", nil).status == 200 {
				t.Fatal("the refused browser is signed in")
			}
		})
	}
}

func TestAPasswordlessCeremonyIsBoundToItsBrowserAndUsedOnce(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	victim, attacker := h.browser(), h.browser()
	ceremony, options := h.passwordlessOptions(t, victim)
	resp, err := a.Assert(options)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"ceremony": {ceremony}, "response": {string(resp)}}
	h.do(attacker, "POST", "/login/passkey", form).expect(t, http.StatusBadRequest, "login")
	if h.do(attacker, "GET", "/account", nil).status == 200 {
		t.Fatal("the other browser got a session")
	}
	// Nor could the other browser use the ceremony up for its owner.
	h.do(victim, "POST", "/login/passkey", form).expectRedirect(t, "/account")
	h.do(h.browser(), "POST", "/login/passkey", form).expect(t, http.StatusBadRequest, "login")
	replay := h.browser()
	h.do(replay, "POST", "/login/passkey/options", nil)
	h.do(victim, "POST", "/login/passkey", form).expect(t, http.StatusBadRequest, "login")
}

func TestAPasswordAloneCannotAddOrRemoveAPasskey(t *testing.T) {
	h := passkeyHarness(t)
	owner, a := passkeyUser(t, h)
	h.passPasskey(t, owner, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", a).expectRedirect(t, "/account/security")
	h.setPolicy(t, mfa.PolicyNever)
	security := h.do(owner, "GET", "/account/security", nil)
	security.expect(t, 200, "security")

	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	r := h.do(attacker, "GET", "/account/passkeys/new", nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("adding a passkey with a password alone: %d to %q, want the passkey challenge", r.status, r.header.Get("Location"))
	}
	// A ceremony begun in the owner's session cannot be finished in another.
	page := h.do(owner, "GET", "/account/passkeys/new", nil)
	id, opts := ceremonyOf(t, page)
	evil := passkeytest.New(h.issuerOrigin())
	resp, err := evil.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	r = h.do(attacker, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"evil"}, "response": {string(resp)}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("finishing the owner's ceremony from a password-only session: %d to %q", r.status, r.header.Get("Location"))
	}
	for _, path := range []string{"/account/passkeys/remove", "/account/passkeys/rename"} {
		r := h.do(attacker, "POST", path, url.Values{"id": {"x"}, "name": {"y"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
			t.Fatalf("%s from a password-only session: %d to %q", path, r.status, r.header.Get("Location"))
		}
	}
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("ann has %d passkeys, want the 1 she added", n)
	}
}

func TestAnApplicationThatRequiresAPasskeyAcceptsNoSMS(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	h.enrollPhone(t, "ann@example.com")
	h.setPolicy(t, mfa.PolicyNever)
	c, err := h.st.ClientByID(context.Background(), spaID)
	if err != nil {
		t.Fatal(err)
	}
	c.MFAPolicy = clients.PolicyPhishingResistant
	if err := h.st.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}

	// The phone first (adding a passkey beside it needs a second factor),
	// then the passkey, then the code.
	f := newFlow()
	r := h.do(b, "GET", p.authURL(f), nil)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/authorize/resume") && !strings.HasPrefix(loc, "/mfa/challenge?") {
		t.Fatalf("a phone holder at a passkey-only app: %d to %q", r.status, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	resume := u.Query().Get("return_to")
	h.passChallenge(t, b, resume)
	r = h.do(b, "GET", resume, nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/account/passkeys/new?") {
		t.Fatalf("after the SMS at a passkey-only app: %d to %q, want to add a passkey", r.status, r.header.Get("Location"))
	}
	a := passkeytest.New(h.issuerOrigin())
	page := h.do(b, "GET", r.header.Get("Location"), nil)
	id, opts := ceremonyOf(t, page)
	resp, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.do(b, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"Phone"}, "response": {string(resp)},
		"return_to": {resume}}).expectRedirect(t, resume)
	// Adding a passkey is not passing one: the new key signs in once.
	r = h.do(b, "GET", resume, nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("after adding the passkey: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	h.passPasskey(t, b, r.header.Get("Location"), a).expectRedirect(t, resume)
	if q := callback(t, h.do(b, "GET", resume, nil)); q.Get("code") == "" {
		t.Fatalf("after passing the passkey: %v, want a code", q)
	}
}

func (h *harness) userID(t *testing.T, email string) string {
	t.Helper()
	u, err := h.st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (h *harness) block(t *testing.T, email string) {
	t.Helper()
	if err := h.st.SetBlocked(context.Background(), h.userID(t, email), true); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) removePasskeys(t *testing.T, email string) {
	t.Helper()
	if _, err := h.st.RemovePasskeys(context.Background(), h.userID(t, email)); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) passkeyCount(t *testing.T, email string) int {
	t.Helper()
	keys, err := h.st.Passkeys(context.Background(), h.userID(t, email))
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestAPasswordResetOfAPasskeyHolderAsksForThePasskey(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	b := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com") // the verification mail
	a := passkeytest.New(h.issuerOrigin())
	// Her first factor: no other factor to prove first.
	h.addPasskey(t, b, a).expectRedirect(t, "/account/security?done=passkey-added")

	rb, page := h.followResetLink(t, "ann@example.com")
	page.expect(t, 200, "reset-challenge")
	// The link alone does not set a password.
	h.do(rb, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new passphrase"}}).
		expect(t, http.StatusForbidden, "reset-challenge")
	id, opts := ceremonyOf(t, page)
	resp, err := a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Nor does a ceremony another reset or session began.
	other := h.do(b, "GET", "/mfa/passkey", nil)
	otherID, _ := ceremonyOf(t, other)
	h.do(rb, "POST", "/reset", url.Values{"step": {"passkey"}, "ceremony": {otherID}, "response": {string(resp)}}).
		expect(t, http.StatusBadRequest, "reset-challenge")
	page = h.do(rb, "GET", "/reset", nil)
	id, opts = ceremonyOf(t, page)
	resp, err = a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.do(rb, "POST", "/reset", url.Values{"step": {"passkey"}, "ceremony": {id}, "response": {string(resp)}}).expectRedirect(t, "/reset")
	h.do(rb, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new passphrase"}}).
		expectRedirect(t, "/login?password_reset=1")
}

// exchangeForACR exchanges the code of an authorization response and returns
// the ID token's acr and amr.
func (p *rp) exchangeForACR(t *testing.T, r response, f flow) (string, []string) {
	t.Helper()
	q := callback(t, r)
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := p.verifyIDToken(t, tok).Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c.ACR, c.AMR
}
