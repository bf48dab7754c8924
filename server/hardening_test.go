package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

var requestIDRE = regexp.MustCompile(`Reference: [0-9a-f]+|[0-9a-f]{16}`)

func TestCrossSiteFormPostsAreRefused(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	form := url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"cross-site fetch metadata", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same-site but other origin", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"foreign Origin without fetch metadata", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"no browser headers (curl)", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(h.browser(), "POST", "/login", form, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if tt.status == http.StatusForbidden && r.screen() != "error" {
				t.Fatalf("refusal shows screen %q, want the error page", r.screen())
			}
		})
	}
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	h := newHarness(t, func(o *options) { o.maxBody = 4096 })
	big := url.Values{"email": {"ann@example.com"}, "password": {strings.Repeat("x", 8192)}}.Encode()

	t.Run("declared length", func(t *testing.T) {
		resp, err := http.Post(h.srv.URL+"/signup", "application/x-www-form-urlencoded", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("chunked without a length", func(t *testing.T) {
		req, err := http.NewRequest("POST", h.srv.URL+"/login", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	h := newHarness(t)
	r := h.do(h.browser(), "GET", "/login", nil)
	want := map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for name, part := range want {
		if !strings.Contains(r.header.Get(name), part) {
			t.Errorf("%s = %q, want it to contain %q", name, r.header.Get(name), part)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q allows too much", csp)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

// TestOpenerPolicyIsolatesPagesButKeepsLoginPopups: the Auth0 SPA SDK's
// loginWithPopup opens /authorize in a popup and waits for the web_message
// page to post to window.opener. Chromium severs a cross-origin popup from its
// opener as soon as the popup loads any page whose policy is not unsafe-none,
// so every page of the login flow says so; every other page is isolated.
func TestOpenerPolicyIsolatesPagesButKeepsLoginPopups(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	popup := p.authURL(newFlow(), oauth2.SetAuthURLParam("response_mode", "web_message"))
	tests := []struct {
		path, want string
	}{
		{"/login", "unsafe-none"},
		{"/signup", "unsafe-none"},
		{popup, "unsafe-none"},
		{"/authorize/resume?tx=unknown", "unsafe-none"},
		{"/mfa/enroll", "unsafe-none"},
		{"/mfa/challenge", "unsafe-none"},
		{"/mfa/totp", "unsafe-none"},
		{"/forgot", "unsafe-none"},
		{"/account", "same-origin"},
		{"/account/totp", "unsafe-none"}, // where a user without a factor enrolls an app mid-login
		{"/account/totp/qr.png", "same-origin"},
		{"/admin/", "same-origin"},
		{"/reset?token=unknown", "same-origin"},
		{"/logout", "same-origin"},
		{"/no/such/page", "same-origin"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := h.do(b, "GET", tt.path, nil)
			if got := r.header.Get("Cross-Origin-Opener-Policy"); got != tt.want {
				t.Fatalf("Cross-Origin-Opener-Policy %q (status %d), want %q", got, r.status, tt.want)
			}
		})
	}
	if r := h.do(b, "GET", popup, nil); r.status != 200 || !strings.Contains(r.body, "window.opener") {
		t.Fatalf("the popup's authorization response: %d, want the web_message page", r.status)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	// Over https the cookie is SameSite=None so that an SPA's silent
	// authentication iframe, on another site, still carries it.
	tests := []struct {
		scheme, name string
		secure       bool
		sameSite     http.SameSite
	}{
		{"http", "gatehouse_session", false, http.SameSiteLaxMode},
		{"https", "__Host-gatehouse_session", true, http.SameSiteNoneMode},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			h := newHarness(t, func(o *options) { o.scheme = tt.scheme })
			r := h.signUp(h.browser(), "ann@example.com")
			var c *http.Cookie
			for _, ck := range (&http.Response{Header: r.header}).Cookies() {
				if ck.Name == tt.name {
					c = ck
				} else if !ck.HttpOnly || ck.Secure != tt.secure {
					t.Errorf("cookie %s: HttpOnly %v, Secure %v", ck.Name, ck.HttpOnly, ck.Secure)
				}
			}
			if c == nil {
				t.Fatalf("no %s cookie in %v", tt.name, r.header["Set-Cookie"])
			}
			if c.Name != tt.name || !c.HttpOnly || c.Secure != tt.secure || c.SameSite != tt.sameSite || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie %+v", c)
			}
			if len(c.Value) != 43 {
				t.Fatalf("cookie value of %d chars, want 43 (256 bits base64url)", len(c.Value))
			}
		})
	}
}

func TestUnknownPathsShowTheErrorPage(t *testing.T) {
	h := newHarness(t)
	h.do(h.browser(), "GET", "/no/such/page", nil).expect(t, http.StatusNotFound, "error")
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if r := h.do(b, "GET", "/healthz", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := h.do(b, "GET", "/readyz", nil); r.status != 200 {
		t.Fatalf("readyz %d", r.status)
	}
	h.signUp(b, "ann@example.com")
	h.logIn(h.browser(), "ann@example.com", goodPassword)
	h.logIn(h.browser(), "ann@example.com", "wrong password")
	m := h.metrics(t)
	for _, want := range []string{
		`gatehouse_logins_total{outcome="success"} 1`,
		`gatehouse_logins_total{outcome="invalid_credentials"} 1`,
		`gatehouse_signups_total{outcome="success"} 1`,
		`gatehouse_http_request_duration_seconds_count{code="303",method="POST",route="POST /login"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// metrics reads the Prometheus text from the metrics handler, which the
// command serves on a listener of its own.
func (h *harness) metrics(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(h.server.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
	return string(body)
}

func TestMetricsAreNotOnThePublicListener(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/metrics", "/metrics?format=text"} {
		if r := h.do(h.browser(), "GET", path, nil); r.status != http.StatusNotFound || strings.Contains(r.body, "gatehouse_") {
			t.Fatalf("GET %s on the public listener: %d, want 404 without metrics", path, r.status)
		}
	}
	if m := h.metrics(t); !strings.Contains(m, "gatehouse_http_request_duration_seconds_count") {
		t.Fatalf("the metrics listener lacks the request metrics:\n%s", m)
	}
}

func TestTheDatabaseGoneMeansNotReadyAndAnOutagePage(t *testing.T) {
	h := newHarness(t)
	h.st.Close()
	if r := h.do(h.browser(), "GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the pool closed: %d, want 503", r.status)
	}
	r := h.logIn(h.browser(), "ann@example.com", goodPassword)
	r.expect(t, http.StatusServiceUnavailable, "error")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(r.body, "closed pool") || strings.Contains(r.body, "sql") {
		t.Fatal("the error page leaks internals")
	}
}

func TestTextPostgresCannotHoldIsRefusedOrIgnoredNotAServerError(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	b := h.browser()
	r := h.do(b, "POST", "/signup", url.Values{"email": {"a\x00b@example.com"}, "password": {goodPassword}})
	r.expect(t, http.StatusBadRequest, "signup")
	for _, path := range []string{"/admin/users?q=%00", "/admin/users?after=AA", "/admin/users?after=gICA", "/admin/logs?type=%00", "/admin/logs?type=%ff"} {
		if r := h.do(admin, "GET", path, nil); r.status >= 500 {
			t.Errorf("GET %s: %d", path, r.status)
		}
	}
}
