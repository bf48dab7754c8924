package server_test

// Attacks on passkeys and the security page, from the outside (README and
// docs only). Two groups:
//
//   - TestAttackFinding*: a real problem. Each asserts the CORRECT behaviour,
//     so it FAILS while the problem is there.
//   - TestAttack*: an attack the server refused as it should. They pass.
//
// Run: go run ./cmd/withpostgres -- go test -count=1 -run 'Attack' ./server/

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-id/gatehouse/settings"
)

// ---------------------------------------------------------------- helpers

var attackPR = oauth2.SetAuthURLParam("acr_values", assurance.PhishingResistant)

func (h *harness) attackSetting(t *testing.T, key, value string) {
	t.Helper()
	if err := h.st.SetSetting(context.Background(), key, value, "test"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second) // past the settings cache
}

func (h *harness) attackRequirePasskey(t *testing.T) {
	t.Helper()
	c, err := h.st.ClientByID(context.Background(), spaID)
	if err != nil {
		t.Fatal(err)
	}
	c.MFAPolicy = clients.PolicyPhishingResistant
	if err := h.st.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) attackCeremonies(t *testing.T) int {
	t.Helper()
	var n int
	if err := h.st.Pool().QueryRow(context.Background(), `select count(*) from webauthn_ceremonies`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func isCodeRedirect(r response) bool {
	return (r.status == http.StatusFound || r.status == http.StatusSeeOther) &&
		strings.HasPrefix(r.header.Get("Location"), spaCallback) &&
		strings.Contains(r.header.Get("Location"), "code=")
}

// ================================================================ FOUND
// Each of these failed before the fix it names.

// Finding 1 (high). The phishing-resistant requirement (per request, per
// application) is met by a session that passed only the password and an SMS
// code, because registering a NEW passkey counts as passing one. A phishing
// proxy that relays the password and one SMS code (exactly what the
// requirement exists to stop) registers its own software passkey from the
// stolen session (the SMS just passed, so sudo mode allows it) and gets
// tokens with acr phishing-resistant, although the user holds a passkey the
// attacker never touched.
func TestAttackANewPasskeyAfterAnSMSDoesNotSatisfyPhishingResistant(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	passkeyUser(t, h) // ann: phone and a passkey
	h.setPolicy(t, mfa.PolicyNever)

	attacker := h.browser()
	f := newFlow()
	r, _ := h.authorizeAfterPassword(t, p, attacker, attackPR)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("acr phishing-resistant after the password: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	// The attacker picks the text message instead (relayed by the proxy)...
	h.passChallenge(t, attacker, "/account/security")
	// ...and tries to register an authenticator of their own: a passkey
	// holder adds one only after passing a passkey.
	if r := h.do(attacker, "GET", "/account/passkeys/new", nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("adding a passkey after an SMS: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}

	r = h.do(attacker, "GET", p.authURL(f, attackPR), nil)
	if isCodeRedirect(r) {
		acr, amr := p.exchangeForACR(t, r, f)
		t.Fatalf("password + SMS + a freshly registered passkey got a code with acr %q amr %v; "+
			"want the challenge of a passkey ann already held (/mfa/passkey)", acr, amr)
	}
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("got %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
}

// Finding 1b (high): the same hole opens the admin console under
// mfa_admin_phishing_resistant to an admin session that passed only SMS.
func TestAttackAnSMSDoesNotOpenAPasskeyOnlyAdminConsole(t *testing.T) {
	h := newAdminHarness(t, func(o *options) { o.localhost = true })
	admin := h.adminBrowser(t)
	h.addPasskey(t, admin, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
	h.attackSetting(t, settings.KeyAdminPasskey, "true")

	attacker := h.browser()
	h.logIn(attacker, adminEmail, goodPassword)
	r := h.do(attacker, "GET", "/admin/", nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("passkey-only console after the password: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	h.passChallenge(t, attacker, "/account/security")
	h.do(attacker, "GET", "/admin/", nil)
	if r := h.do(attacker, "GET", "/account/passkeys/new", nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("adding a passkey after an SMS: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	r = h.do(attacker, "GET", "/admin/", nil)
	if r.status == 200 {
		t.Fatal("the passkey-only admin console opened for a session that passed password + SMS and registered a new passkey")
	}
}

// Finding 2 (medium). Two sessions that hold only the password of a user
// with no factor each begin adding a passkey as the "first" factor; posted
// at the same time, both are stored. The handler re-checks "still no factor"
// but not under a lock with the insert (the phone and app enrollments do
// it under the MFA user lock), so the second passkey is a factor added
// beside another without proving it. (The docs: "two sessions cannot both
// enroll 'first'".)
func TestAttackConcurrentFirstPasskeysAddOnlyOne(t *testing.T) {
	h := passkeyHarness(t)
	signedInBrowser(t, h) // ann, no factor
	h.setPolicy(t, mfa.PolicyNever)

	const n = 8
	type attempt struct {
		b    *http.Client
		form url.Values
	}
	var attempts []attempt
	for i := 0; i < n; i++ {
		b := h.browser()
		h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
		page := h.do(b, "GET", "/account/passkeys/new", nil)
		page.expect(t, 200, "passkey-enroll")
		id, opts := ceremonyOf(t, page)
		resp, err := passkeytest.New(h.issuerOrigin()).Register(opts)
		if err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, attempt{b, url.Values{"ceremony": {id}, "name": {"k"}, "response": {string(resp)}}})
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]string, n)
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := h.do(a.b, "POST", "/account/passkeys", a.form)
			statuses[i] = r.header.Get("Location")
		}()
	}
	close(start)
	wg.Wait()
	if k := h.passkeyCount(t, "ann@example.com"); k > 1 {
		t.Fatalf("%d password-only sessions each added a \"first\" passkey at once (%v); want at most 1", k, statuses)
	}
}

// Finding 3 (medium). POST /login/passkey/options is open to anyone and
// stores one row per call, with no limit per browser, per IP or overall:
// what an anonymous client makes the server keep grows with its request
// rate (times the 5 minutes a ceremony lives).
func TestAttackAnonymousPasskeyOptionsAreBoundedPerAddress(t *testing.T) {
	h := passkeyHarness(t)
	before := h.attackCeremonies(t)

	// One browser, keeping its cookie: a page needs one live ceremony.
	b := h.browser()
	for i := 0; i < 100; i++ {
		h.do(b, "POST", "/login/passkey/options", nil)
	}
	sameBrowser := h.attackCeremonies(t) - before

	// One address, a fresh cookie jar each time.
	refused := 0
	for i := 0; i < 300; i++ {
		if r := h.do(h.browser(), "POST", "/login/passkey/options", nil); r.status == http.StatusTooManyRequests {
			refused++
		}
	}
	total := h.attackCeremonies(t) - before
	t.Logf("rows stored: %d from one browser, %d in all; %d requests refused", sameBrowser, total, refused)
	if limit := passkey.DefaultAnonymousPerIP.Max; total > limit || refused != 300 {
		t.Errorf("400 anonymous requests from one address stored %d rows and %d were refused; want at most %d rows, and the last 300 refused",
			total, refused, limit)
	}
}

// Finding 4 (low). A ceremony id that is not valid UTF-8 or carries a NUL
// byte reaches Postgres as text and the error becomes a 500 ("an unexpected
// failure", logged as a server error) on every passkey form. It should be
// the 400 an unknown ceremony gets.
func TestAttackAMalformedCeremonyIDIsAnUnknownCeremony(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	owner := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	a := passkeytest.New(h.issuerOrigin())
	h.addPasskey(t, owner, a).expectRedirect(t, "/account/security?done=passkey-added")
	rb, _ := h.followResetLink(t, "ann@example.com")

	anon := h.browser()
	h.passwordlessOptions(t, anon)
	for _, bad := range []string{"\x00", "\xff\xfe"} {
		for _, c := range []struct {
			name string
			b    *http.Client
			path string
			form url.Values
		}{
			{"passwordless", anon, "/login/passkey", url.Values{"ceremony": {bad}, "response": {"{}"}}},
			{"second factor", owner, "/mfa/passkey", url.Values{"ceremony": {bad}, "response": {"{}"}}},
			{"registration", owner, "/account/passkeys", url.Values{"ceremony": {bad}, "response": {"{}"}}},
			{"reset", rb, "/reset", url.Values{"step": {"passkey"}, "ceremony": {bad}, "response": {"{}"}}},
		} {
			if r := h.do(c.b, "POST", c.path, c.form); r.status >= 500 {
				t.Errorf("%s with ceremony %q: %d, want 400 (an unknown ceremony)", c.name, bad, r.status)
			}
		}
	}
}

// Finding 5 (low). At the documented cap of 20 passkeys, "Add a passkey"
// answers 500 instead of the message the code has for it ("You have as many
// passkeys as an account may hold. Remove one first.").
func TestAttackAddingAPasskeyAtTheCapSaysSo(t *testing.T) {
	h := passkeyHarness(t)
	b, a := passkeyUser(t, h) // one passkey
	h.passPasskey(t, b, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", a).expectRedirect(t, "/account/security")
	for i := 1; i < 20; i++ {
		h.addPasskey(t, b, passkeytest.New(h.issuerOrigin())).expectRedirect(t, "/account/security?done=passkey-added")
	}
	if n := h.passkeyCount(t, "ann@example.com"); n != 20 {
		t.Fatalf("%d passkeys, want 20", n)
	}
	r := h.do(b, "GET", "/account/passkeys/new", nil)
	r.expectRedirect(t, "/account/security?done=passkey-too-many")
	if page := h.do(b, "GET", "/account/security?done=passkey-too-many", nil); !strings.Contains(page.notice(), "Remove one") {
		t.Fatalf("the security page says %q, want how to add another", page.notice())
	}
}

// ================================================================ HELD
// Attacks that were refused from the start.

// A password alone changes nothing on the security page of a passkey holder,
// and a passkey passed more than 15 minutes ago must be passed again.
func TestAttackSecurityPageNeedsARecentSecondFactor(t *testing.T) {
	h := passkeyHarness(t)
	owner, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)
	sessions := h.do(owner, "GET", "/account/security", nil)
	sessions.expect(t, 200, "security")

	forms := map[string]url.Values{
		"/account/phone/remove":        {},
		"/account/recovery-codes":      {},
		"/account/sessions/end-others": {},
		"/account/sessions/end":        {"id": {"x"}},
		"/account/browsers/forget-all": {},
		"/account/browsers/forget":     {"id": {"x"}},
		"/account/totp/remove":         {},
		"/account/passkeys/remove":     {"id": {"x"}},
		"/account/passkeys/rename":     {"id": {"x"}, "name": {"y"}},
		"/account/password":            {"current": {goodPassword}, "password": {"another long passphrase"}},
	}
	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	for path, form := range forms {
		r := h.do(attacker, "POST", path, form)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
			t.Errorf("%s from a password-only session: %d to %q, want the passkey challenge", path, r.status, r.header.Get("Location"))
		}
	}
	h.do(attacker, "GET", "/account/passkeys/new", nil).expect(t, http.StatusSeeOther, "")

	// Passed, then 16 minutes: again.
	h.passPasskey(t, attacker, "/mfa/passkey?return_to=%2Faccount%2Fsecurity", a).expectRedirect(t, "/account/security")
	h.clock.Advance(16 * time.Minute)
	for path, form := range forms {
		r := h.do(attacker, "POST", path, form)
		if loc := r.header.Get("Location"); r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa/passkey?") || !strings.Contains(loc, "reauth=1") {
			t.Errorf("%s 16 min after the passkey: %d to %q, want the passkey again", path, r.status, loc)
		}
	}
	r := h.do(attacker, "GET", "/account/passkeys/new", nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Errorf("adding a passkey 16 min after the last factor: %d to %q", r.status, r.header.Get("Location"))
	}
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("%d passkeys, want 1", n)
	}
}

// A passwordless answer from a copy of the key (counter going back) is
// refused, and the key is refused from then on, original included.
func TestAttackClonedPasskeyCannotSignIn(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	h.passwordless(t, h.browser(), a, "/account").expectRedirect(t, "/account")

	clone := *a
	clone.Counter = 0
	b := h.browser()
	h.passwordless(t, b, &clone, "/account").expect(t, http.StatusUnauthorized, "login")
	if h.do(b, "GET", "/account", nil).status == 200 {
		t.Fatal("the clone is signed in")
	}
	h.passwordless(t, h.browser(), a, "/account").expect(t, http.StatusUnauthorized, "login")
}

// An attacker's own credential, registered with the victim's user handle in
// its options, does not sign in as the victim (nor as its owner).
func TestAttackForgedUserHandleIsRefused(t *testing.T) {
	h := passkeyHarness(t)
	passkeyUser(t, h)
	annHandle := uuid.MustParse(h.userID(t, "ann@example.com"))

	bob := h.browser()
	h.signUp(bob, "bob@example.com").expectRedirect(t, "/account")
	page := h.do(bob, "GET", "/account/passkeys/new", nil)
	id, opts := ceremonyOf(t, page)
	var o map[string]any
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	pk := o
	if inner, ok := o["publicKey"].(map[string]any); ok {
		pk = inner
	}
	pk["user"].(map[string]any)["id"] = base64.RawURLEncoding.EncodeToString(annHandle[:])
	forged, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	evil := passkeytest.New(h.issuerOrigin())
	resp, err := evil.Register(forged)
	if err != nil {
		t.Fatal(err)
	}
	h.do(bob, "POST", "/account/passkeys", url.Values{"ceremony": {id}, "name": {"x"}, "response": {string(resp)}}).
		expectRedirect(t, "/account/security?done=passkey-added")

	b := h.browser()
	h.passwordless(t, b, evil, "/account").expect(t, http.StatusUnauthorized, "login")
	if h.do(b, "GET", "/account", nil).status == 200 {
		t.Fatal("a forged user handle signed in")
	}
}

// Another user's passkey, forced past the allow list, does not pass ann's
// second-factor screen.
func TestAttackAnotherUsersPasskeyDoesNotPassTheChallenge(t *testing.T) {
	h := passkeyHarness(t)
	passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	bob := h.browser()
	h.signUp(bob, "bob@example.com").expectRedirect(t, "/account")
	evil := passkeytest.New(h.issuerOrigin())
	h.addPasskey(t, bob, evil).expectRedirect(t, "/account/security?done=passkey-added")
	evil.IgnoreAllowList = true

	attacker := h.browser()
	h.logIn(attacker, "ann@example.com", goodPassword)
	page := h.do(attacker, "GET", "/mfa/passkey?return_to=%2Faccount", nil)
	id, opts := ceremonyOf(t, page)
	resp, err := evil.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.do(attacker, "POST", "/mfa/passkey", url.Values{"ceremony": {id}, "response": {string(resp)}}).
		expect(t, http.StatusUnauthorized, "passkey")
	if r := h.do(attacker, "GET", "/account", nil); r.status == 200 {
		t.Fatal("another user's passkey passed ann's challenge")
	}
}

// A second-factor answer cannot be replayed, nor used from another session
// of the same user.
func TestAttackSecondFactorCeremonyIsBoundAndSingleUse(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyAlways)
	victim, attacker := h.browser(), h.browser()
	h.logIn(victim, "ann@example.com", goodPassword)
	h.logIn(attacker, "ann@example.com", goodPassword)
	id, opts := ceremonyOf(t, h.do(victim, "GET", "/mfa/passkey?return_to=%2Faccount", nil))
	resp, err := a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"ceremony": {id}, "response": {string(resp)}, "return_to": {"/account"}}
	h.do(attacker, "POST", "/mfa/passkey", form).expect(t, http.StatusBadRequest, "passkey")
	h.do(victim, "POST", "/mfa/passkey", form).expectRedirect(t, "/account")
	h.do(victim, "POST", "/mfa/passkey", form).expect(t, http.StatusBadRequest, "")
	if h.do(attacker, "GET", "/account", nil).status == 200 {
		t.Fatal("the attacker's session passed")
	}
}

// Ten simultaneous posts of one passwordless answer from its own browser
// sign in once.
func TestAttackPasswordlessRaceSignsInOnce(t *testing.T) {
	h := passkeyHarness(t)
	_, a := passkeyUser(t, h)
	b := h.browser()
	id, opts := h.passwordlessOptions(t, b)
	resp, err := a.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"ceremony": {id}, "response": {string(resp)}}
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := h.do(b, "POST", "/login/passkey", form); r.status == http.StatusSeeOther {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d of 10 racing posts signed in, want 1", ok)
	}
}

// An MFA-locked user who signs in with a passkey gets no code.
func TestAttackMFALockHoldsAfterPasswordless(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	ann := h.userID(t, "ann@example.com")
	if _, err := h.st.AddMFAFailure(context.Background(), ann, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.st.LockMFA(context.Background(), ann, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	pw := h.browser()
	h.logIn(pw, "ann@example.com", goodPassword)
	if r := h.do(pw, "GET", "/mfa/passkey?return_to=%2Faccount", nil); !strings.Contains(r.body, "Verification is locked") {
		t.Fatalf("the lock does not hold at the passkey screen: %d %q", r.status, r.screen())
	}
	b := h.browser()
	h.passwordless(t, b, a, "/account")
	r := h.do(b, "GET", p.authURL(newFlow()), nil)
	if isCodeRedirect(r) {
		t.Fatal("an MFA-locked user got a code after a passwordless sign-in")
	}
	if r := h.do(b, "GET", "/account", nil); r.status == 200 && r.screen() == "account" {
		t.Fatal("an MFA-locked user opened the account page after a passwordless sign-in")
	}
}

// Phishing-resistant is not given by SMS, a remembered browser, the never
// policy or silent authentication; tokens after SMS say multi-factor.
func TestAttackPhishingResistantAppRefusesEverythingButAPasskey(t *testing.T) {
	h := passkeyHarness(t)
	p := h.newSPA(t)
	_, a := passkeyUser(t, h)
	h.setPolicy(t, mfa.PolicyNever)

	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword)
	h.do(b, "GET", "/mfa/challenge?return_to=%2Faccount", nil).expect(t, 200, "challenge")
	code := h.sendSMS(t)
	h.do(b, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {code}, "remember": {"1"}, "return_to": {"/account"}}).
		expectRedirect(t, "/account")

	// After SMS only: multi-factor, not phishing-resistant.
	stepUp := oauth2.SetAuthURLParam("acr_values", acrMultiFactorURI)
	f := newFlow()
	acr, amr := p.exchangeForACR(t, h.do(b, "GET", p.authURL(f, stepUp), nil), f)
	if acr == assurance.PhishingResistant || slices.Contains(amr, "hwk") || slices.Contains(amr, "swk") {
		t.Fatalf("after SMS only: acr %q amr %v", acr, amr)
	}

	// acr_values phishing-resistant: the passkey screen, or login_required silently.
	if r := h.do(b, "GET", p.authURL(newFlow(), attackPR), nil); !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("acr PR after SMS: %d to %q", r.status, r.header.Get("Location"))
	}
	silent := h.do(b, "GET", p.authURL(newFlow(), attackPR, oauth2.SetAuthURLParam("prompt", "none")), nil)
	if isCodeRedirect(silent) || !strings.Contains(silent.header.Get("Location"), "login_required") {
		t.Fatalf("prompt=none acr PR after SMS: %d to %q", silent.status, silent.header.Get("Location"))
	}
	// A new session in the remembered browser, under never, app requires PR.
	h.attackRequirePasskey(t)
	h.do(b, "POST", "/logout", nil)
	r, _ := h.authorizeAfterPassword(t, p, b)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/passkey?") {
		t.Fatalf("PR app, remembered browser, never: %d to %q, want the passkey screen", r.status, r.header.Get("Location"))
	}
	silent = h.do(b, "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")), nil)
	if isCodeRedirect(silent) {
		t.Fatal("silent auth at a PR app gave a code to a password session in a remembered browser")
	}
	// With the passkey: phishing-resistant.
	h.passPasskey(t, b, r.header.Get("Location"), a)
	f = newFlow()
	acr, _ = p.exchangeForACR(t, h.do(b, "GET", p.authURL(f), nil), f)
	if acr != assurance.PhishingResistant {
		t.Fatalf("after the passkey: acr %q", acr)
	}
}

const acrMultiFactorURI = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"

// The reset: a ceremony of another reset or of a session does not pass it; a
// code cannot be asked instead when there is no code factor; with passkeys
// turned off the link alone still sets no password.
func TestAttackResetOfAPasskeyHolder(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo, o.localhost, o.mail = true, true, true })
	owner := signedInBrowser(t, h)
	h.sendMail(t, "ann@example.com")
	a := passkeytest.New(h.issuerOrigin())
	h.addPasskey(t, owner, a).expectRedirect(t, "/account/security?done=passkey-added")

	rb1, page1 := h.followResetLink(t, "ann@example.com")
	id1, opts1 := ceremonyOf(t, page1)
	resp1, err := a.Assert(opts1)
	if err != nil {
		t.Fatal(err)
	}
	rb2, _ := h.followResetLink(t, "ann@example.com")
	// Reset 1's ceremony and answer, posted by reset 2's browser.
	if r := h.do(rb2, "POST", "/reset", url.Values{"step": {"passkey"}, "ceremony": {id1}, "response": {string(resp1)}}); r.status == http.StatusSeeOther {
		t.Fatalf("another reset's ceremony passed: %d to %q", r.status, r.header.Get("Location"))
	}
	// ...or by the owner's session as a second factor.
	if r := h.do(owner, "POST", "/mfa/passkey", url.Values{"ceremony": {id1}, "response": {string(resp1)}}); r.status == http.StatusSeeOther {
		t.Fatalf("a reset's ceremony passed a session's challenge: %d to %q", r.status, r.header.Get("Location"))
	}
	// Asking for a code instead, and guessing one.
	h.do(rb2, "GET", "/reset?with=code", nil)
	h.do(rb2, "POST", "/reset", url.Values{"step": {"code"}, "code": {"000000"}})
	for _, rb := range []*http.Client{rb1, rb2} {
		r := h.do(rb, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new passphrase"}})
		if r.status == http.StatusSeeOther {
			t.Fatalf("the link alone set the password: %d to %q", r.status, r.header.Get("Location"))
		}
	}
	// Passkeys turned off: still no password from the link alone.
	h.attackSetting(t, settings.KeyPasskeysEnabled, "false")
	rb3, page3 := rb2, h.do(rb2, "GET", "/reset", nil)
	if page3.status == 200 && page3.screen() == "reset" && strings.Contains(page3.body, `name="password"`) {
		t.Fatal("with passkeys off the reset page offers the new password at once")
	}
	if r := h.do(rb3, "POST", "/reset", url.Values{"step": {"password"}, "password": {"a brand new passphrase"}}); r.status == http.StatusSeeOther {
		t.Fatalf("with passkeys off the link alone set the password: %d to %q", r.status, r.header.Get("Location"))
	}
	h.logIn(h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")
}

// Bodies and ids: an oversized answer gets 413, odd passkey ids are "stale".
func TestAttackOversizedAndMalformedInputs(t *testing.T) {
	h := passkeyHarness(t)
	owner, a := passkeyUser(t, h)
	b := h.browser()
	id, _ := h.passwordlessOptions(t, b)
	big := strings.Repeat("A", 70<<10)
	if r := h.do(b, "POST", "/login/passkey", url.Values{"ceremony": {id}, "response": {big}}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB answer: %d, want 413", r.status)
	}
	for _, junk := range []string{"", "!!!", strings.Repeat("A", 2000), "AAAA\x00", "%%"} {
		for _, path := range []string{"/account/passkeys/remove", "/account/passkeys/rename"} {
			r := h.do(owner, "POST", path, url.Values{"id": {junk}, "name": {"n"}})
			if r.status >= 500 {
				t.Errorf("%s id %q: %d", path, junk, r.status)
			}
		}
	}
	for _, name := range []string{"a\x00b", "\xff", strings.Repeat("x", 65), "  ", "a\u202eb"} {
		r := h.do(owner, "POST", "/account/passkeys/rename", url.Values{"id": {"x"}, "name": {name}})
		if r.status >= 500 {
			t.Errorf("rename to %q: %d", name, r.status)
		}
	}
	if r := h.do(owner, "POST", "/login/passkey", url.Values{"ceremony": {"x"}, "response": {"not json"}}); r.status >= 500 {
		t.Errorf("garbage passwordless answer: %d", r.status)
	}
	_ = a
	if n := h.passkeyCount(t, "ann@example.com"); n != 1 {
		t.Fatalf("%d passkeys, want 1", n)
	}
}
