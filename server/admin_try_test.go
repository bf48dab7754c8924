package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tryLogin starts the test login from the console and returns the authorize
// URL it sends the browser to.
func (h *harness) tryLogin(t *testing.T, admin *http.Client, form url.Values) *url.URL {
	t.Helper()
	r := h.adminPost(t, admin, "/admin/try", "/admin/try", form)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusSeeOther || loc.Path != "/authorize" {
		t.Fatalf("try: %d to %v, want authorize", r.status, loc)
	}
	return loc
}

// logInThrough follows an authorization request through the login box as
// email and returns where the browser lands after authorize.
func (h *harness) logInThrough(t *testing.T, b *http.Client, authorize *url.URL, email string) response {
	t.Helper()
	h.clock.Advance(2 * time.Second) // the admin's own login is now older than the request
	r := h.do(b, "GET", authorize.RequestURI(), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("authorize: %d to %v, want the login box (prompt=login)", r.status, loc)
	}
	resume := loc.Query().Get("return_to")
	h.do(b, "POST", "/login", url.Values{"email": {email}, "password": {goodPassword}, "return_to": {resume}}).expectRedirect(t, resume)
	return h.do(b, "GET", resume, nil)
}

func TestTryYourLoginBoxEndsOnItWorksWithTheClaims(t *testing.T) {
	h := newAdminHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	admin := h.adminBrowser(t)
	h.do(admin, "GET", "/admin/try", nil).expect(t, http.StatusOK, "admin-try")

	authorize := h.tryLogin(t, admin, url.Values{})
	q := authorize.Query()
	if q.Get("prompt") != "login" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Has("acr_values") {
		t.Fatalf("authorize request %v", q)
	}
	back := h.logInThrough(t, admin, authorize, "ann@example.com")
	cb, err := url.Parse(back.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if back.status != http.StatusSeeOther || cb.Path != "/admin/try/callback" {
		t.Fatalf("after login: %d to %v", back.status, cb)
	}
	result := h.do(admin, "GET", cb.RequestURI(), nil)
	result.expect(t, http.StatusOK, "admin-try-result")
	for _, want := range []string{"It works!", `data-claim="email">ann@example.com<`, `data-claim="amr">[&#34;pwd&#34;]<`,
		`data-claim="aud">gatehouse-try<`, `id="id_token">ey`} {
		if !strings.Contains(result.body, want) {
			t.Errorf("the result lacks %s", want)
		}
	}
	// The cookie is spent: the same callback does not run twice.
	h.do(admin, "GET", cb.RequestURI(), nil).expect(t, http.StatusBadRequest, "error")

	list := h.do(h.adminBrowser(t), "GET", "/admin/applications", nil)
	if !strings.Contains(list.body, "gatehouse-try") || !strings.Contains(list.body, "(built-in)") {
		t.Error("the built-in application is not listed as built in")
	}
}

func TestTryYourLoginBoxCanRequireMFA(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	authorize := h.tryLogin(t, admin, url.Values{"require_mfa": {"1"}})
	if authorize.Query().Get("acr_values") == "" {
		t.Fatal("no acr_values with require MFA")
	}
	r := h.logInThrough(t, admin, authorize, adminEmail)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Path != "/mfa/challenge" {
		t.Fatalf("a step-up login went to %v, want the challenge", loc)
	}
	resume := loc.Query().Get("return_to")
	h.do(admin, "GET", loc.RequestURI(), nil).expect(t, http.StatusOK, "challenge")
	h.do(admin, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {h.sendSMS(t)}, "return_to": {resume}}).expectRedirect(t, resume)
	cb, err := url.Parse(h.do(admin, "GET", resume, nil).header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	result := h.do(admin, "GET", cb.RequestURI(), nil)
	result.expect(t, http.StatusOK, "admin-try-result")
	if !strings.Contains(result.body, `data-claim="acr">http://schemas.openid.net/pape/policies/2007/06/multi-factor<`) ||
		!strings.Contains(result.body, "&#34;mfa&#34;") {
		t.Error("the result does not show acr and amr of a multi-factor login")
	}
}

func TestTryYourLoginBoxShowsAuthorizeErrors(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	state := h.tryLogin(t, admin, url.Values{}).Query().Get("state")
	r := h.do(admin, "GET", "/admin/try/callback?"+url.Values{"state": {state}, "error": {"login_required"},
		"error_description": {"The user is not logged in."}}.Encode(), nil)
	r.expect(t, http.StatusBadRequest, "admin-try-result")
	if !strings.Contains(r.body, "login_required: The user is not logged in.") || r.alert() == "" {
		t.Errorf("the error is not shown: %s", r.alert())
	}

	h.do(h.browser(), "GET", "/admin/try/callback?code=x&state="+state, nil).expect(t, http.StatusBadRequest, "error")
	other := h.tryLogin(t, admin, url.Values{}).Query().Get("state")
	h.do(admin, "GET", "/admin/try/callback?code=x&state="+other+"x", nil).expect(t, http.StatusBadRequest, "error")
}
