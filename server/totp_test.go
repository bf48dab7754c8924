package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/mfa"
)

var totpSecretRE = regexp.MustCompile(`Enter this key: <span class="input-mono">([A-Z2-7]+)</span>`)

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// setUpApp sets up an authenticator app from browser b and returns its secret.
func (h *harness) setUpApp(t *testing.T, b *http.Client) string {
	t.Helper()
	setup := h.do(b, "GET", "/account/totp", nil)
	setup.expect(t, 200, "totp-setup")
	secret := totpSecretRE.FindStringSubmatch(setup.body)[1]
	h.do(b, "POST", "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}}).
		expectRedirect(t, "/account/security?done=app-added")
	return secret
}

func TestAuthenticatorAppSetUpThenUsedAtLogin(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	b := signedInBrowser(t, h)

	setup := h.do(b, "GET", "/account/totp", nil)
	setup.expect(t, 200, "totp-setup")
	m := totpSecretRE.FindStringSubmatch(setup.body)
	if m == nil {
		t.Fatalf("setup page shows no key:\n%s", setup.body)
	}
	secret := m[1]
	qr := h.do(b, "GET", "/account/totp/qr.png", nil)
	if qr.status != 200 || qr.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR code: %d %q", qr.status, qr.header.Get("Content-Type"))
	}
	if r := h.do(b, "POST", "/account/totp", url.Values{"code": {"000000"}}); r.header.Get("Location") != "/account/totp?retry=1" {
		t.Fatalf("wrong setup code: %d to %q", r.status, r.header.Get("Location"))
	}
	setup = h.do(b, "GET", "/account/totp?retry=1", nil)
	secret = totpSecretRE.FindStringSubmatch(setup.body)[1]
	done := h.do(b, "POST", "/account/totp", url.Values{"code": {totpCode(t, secret, h.clock.Now())}})
	done.expectRedirect(t, "/account/security?done=app-added")
	if done = h.do(b, "GET", "/account/security?done=app-added", nil); !strings.Contains(done.body, "authenticator app is set up") {
		t.Fatalf("no confirmation: %q", done.body)
	}

	h.setPolicy(t, mfa.PolicyAlways)
	b2 := h.browser()
	h.logIn(b2, "ann@example.com", goodPassword)
	r := h.do(b2, "GET", "/account", nil)
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa/totp?") {
		t.Fatalf("login with an authenticator app: %d to %q, want the app code page", r.status, r.header.Get("Location"))
	}
	h.do(b2, "GET", r.header.Get("Location"), nil).expect(t, 200, "totp")
	if n := len(h.plivo.Messages()); n != 0 {
		t.Fatalf("%d SMS sent though the user has an app", n)
	}
	wrong := h.do(b2, "POST", "/mfa/totp", url.Values{"step": {"code"}, "code": {"000000"}})
	wrong.expect(t, http.StatusBadRequest, "totp")
	code := totpCode(t, secret, h.clock.Now().Add(30*time.Second))
	h.do(b2, "POST", "/mfa/totp", url.Values{"step": {"code"}, "code": {code}}).expectRedirect(t, "/account")
	h.do(b2, "GET", "/account", nil).expect(t, 200, "account")

	b3 := h.browser()
	h.logIn(b3, "ann@example.com", goodPassword)
	replay := h.do(b3, "POST", "/mfa/totp", url.Values{"step": {"code"}, "code": {code}})
	if replay.status != http.StatusBadRequest || !strings.Contains(replay.alert(), "already used") {
		t.Fatalf("replayed app code: %d, alert %q", replay.status, replay.alert())
	}
}
