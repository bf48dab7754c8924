package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-id/gatehouse/account"
)

func TestSignupLoginAccountLogoutJourney(t *testing.T) {
	h := newHarness(t)
	b := h.browser()

	h.do(b, "GET", "/signup", nil).expect(t, 200, "signup")
	h.signUp(b, "ann@example.com").expectRedirect(t, "/account")
	acct := h.do(b, "GET", "/account", nil)
	acct.expect(t, 200, "account")
	if !strings.Contains(acct.body, "ann@example.com") {
		t.Fatal("account page does not show the email")
	}

	h.do(b, "GET", "/logout", nil).expect(t, 200, "logout")
	h.do(b, "POST", "/logout", url.Values{}).expectRedirect(t, "/login?logged_out=1")
	loggedOut := h.do(b, "GET", "/login?logged_out=1", nil)
	loggedOut.expect(t, 200, "login")
	if !strings.Contains(loggedOut.body, "You are logged out.") {
		t.Fatal("login page after logout does not say so")
	}
	h.do(b, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")

	h.do(b, "POST", "/login", url.Values{"email": {"ANN@example.com"}, "password": {goodPassword},
		"return_to": {"/account"}}).expectRedirect(t, "/account")
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
	h.do(b, "GET", "/login", nil).expectRedirect(t, "/account")
}

func TestChangePasswordOnTheAccountPage(t *testing.T) {
	h := newHarness(t)
	b, other := h.browser(), h.browser()
	h.signUp(b, "ann@example.com")
	h.logIn(other, "ann@example.com", goodPassword).expectRedirect(t, "/account")

	tests := []struct {
		name, current, next string
		status              int
		alert               string
	}{
		{"wrong current password", "not my password", "a brand new phrase", 400, "Your current password is not correct."},
		{"too short", goodPassword, "short", 400, "Use at least 8 characters."},
		{"common", goodPassword, "password1", 400, "This password is too common; choose another."},
		{"accepted", goodPassword, "a brand new phrase", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(b, "POST", "/account/password", url.Values{"current_password": {tt.current}, "new_password": {tt.next}})
			r.expect(t, tt.status, "account")
			if r.alert() != tt.alert {
				t.Fatalf("alert %q, want %q", r.alert(), tt.alert)
			}
		})
	}
	h.do(other, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")
	h.logIn(h.browser(), "ann@example.com", "a brand new phrase").expectRedirect(t, "/account")
}

func TestSignupErrorsAreShownOnTheForm(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "taken@example.com")
	tests := []struct {
		name   string
		form   url.Values
		status int
		alert  string
	}{
		{"malformed email", url.Values{"email": {"ann.example.com"}, "password": {goodPassword}}, 400, "Enter a valid email address, like name@example.com."},
		{"short password", url.Values{"email": {"ann@example.com"}, "password": {"1234567"}}, 400, "Use at least 8 characters."},
		{"too long password", url.Values{"email": {"ann@example.com"}, "password": {strings.Repeat("x", 257)}}, 400, "Use at most 256 characters."},
		{"common password", url.Values{"email": {"ann@example.com"}, "password": {"password1"}}, 400, "This password is too common; choose another."},
		{"email taken", url.Values{"email": {"Taken@Example.com"}, "password": {goodPassword}}, 400,
			"We couldn&#39;t create an account with this email address. If you already have one, log in instead."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(h.browser(), "POST", "/signup", tt.form)
			r.expect(t, tt.status, "signup")
			if r.alert() != tt.alert {
				t.Fatalf("alert %q, want %q", r.alert(), tt.alert)
			}
			if tt.form.Get("email") != "" && !strings.Contains(r.body, `value="`+tt.form.Get("email")+`"`) {
				t.Fatal("the form lost the email the person typed")
			}
		})
	}
}

func TestWrongPasswordAndUnknownEmailAreIndistinguishable(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	wrong := h.logIn(h.browser(), "ann@example.com", "not the password")
	unknown := h.logIn(h.browser(), "nobody@example.com", "not the password")
	wrong.expect(t, http.StatusUnauthorized, "login")
	unknown.expect(t, http.StatusUnauthorized, "login")
	normalize := func(r response) string {
		s := strings.ReplaceAll(r.body, "ann@example.com", "EMAIL")
		s = strings.ReplaceAll(s, "nobody@example.com", "EMAIL")
		return requestIDRE.ReplaceAllString(s, "ID")
	}
	if normalize(wrong) != normalize(unknown) {
		t.Fatalf("pages differ:\n%s\n---\n%s", wrong.body, unknown.body)
	}
	if wrong.alert() != "Wrong email or password." {
		t.Fatalf("alert = %q", wrong.alert())
	}
}

func TestLockoutAfterTenFailuresAndReleaseAfterTheWindow(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	b := h.browser()
	for i := range 10 {
		h.logIn(b, "ann@example.com", "not the password").expect(t, http.StatusUnauthorized, "login")
		if i < 9 {
			h.clock.Advance(time.Second)
		}
	}
	locked := h.logIn(b, "ann@example.com", goodPassword)
	locked.expect(t, http.StatusTooManyRequests, "login")
	if !strings.Contains(locked.alert(), "paused for 15 minutes") || locked.header.Get("Retry-After") == "" {
		t.Fatalf("locked page: alert %q, Retry-After %q", locked.alert(), locked.header.Get("Retry-After"))
	}
	h.clock.Advance(14 * time.Minute)
	h.logIn(b, "ann@example.com", goodPassword).expect(t, http.StatusTooManyRequests, "login")
	h.clock.Advance(time.Minute)
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
}

func TestSignupDuringALockoutIsThrottledNotAnError(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	b := h.browser()
	pages := map[string]string{}
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			for range 10 {
				h.logIn(b, email, "not the password").expect(t, http.StatusUnauthorized, "login")
			}
			r := h.signUp(b, email)
			r.expect(t, http.StatusTooManyRequests, "signup")
			if !strings.Contains(r.alert(), "Wait 15 minutes") || r.header.Get("Retry-After") == "" {
				t.Fatalf("alert %q, Retry-After %q", r.alert(), r.header.Get("Retry-After"))
			}
			pages[email] = requestIDRE.ReplaceAllString(strings.ReplaceAll(r.body, email, "EMAIL"), "ID")
		})
	}
	// A lock says nothing about whether the address has an account.
	if pages["ann@example.com"] != pages["nobody@example.com"] {
		t.Fatal("the locked signup page differs between an address with an account and one without")
	}
}

func TestBlockedUserIsRefused(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	u, err := h.st.UserByEmail(withContext(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetBlocked(withContext(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	r := h.logIn(h.browser(), "ann@example.com", goodPassword)
	r.expect(t, http.StatusForbidden, "login")
	if r.alert() != "Your account is blocked. Contact your administrator." {
		t.Fatalf("alert = %q", r.alert())
	}
}

func TestBlockingAUserEndsTheirSession(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.signUp(b, "ann@example.com")
	u, err := h.st.UserByEmail(withContext(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetBlocked(withContext(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	h.do(b, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
}

func TestBcryptHashIsUpgradedOnLogin(t *testing.T) {
	h := newHarness(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u, err := h.st.CreateUser(withContext(), account.NewUser{Email: "imported@example.com", PasswordHash: string(hash), CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	h.logIn(h.browser(), "imported@example.com", goodPassword).expectRedirect(t, "/account")
	after, err := h.st.UserByID(withContext(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
		t.Fatalf("stored hash after login = %.12q…, want argon2id", after.PasswordHash)
	}
}

func TestLoginFormValidation(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name  string
		form  url.Values
		alert string
	}{
		{"no email", url.Values{"password": {"x"}}, "Enter a valid email address, like name@example.com."},
		{"no password", url.Values{"email": {"ann@example.com"}}, "Enter your password."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(h.browser(), "POST", "/login", tt.form)
			r.expect(t, http.StatusBadRequest, "login")
			if r.alert() != tt.alert {
				t.Fatalf("alert %q, want %q", r.alert(), tt.alert)
			}
		})
	}
}

func TestReturnToOnlyLeadsToLocalPaths(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	tests := []struct{ returnTo, want string }{
		{"/account?tab=1", "/account?tab=1"},
		{"https://evil.example/", "/account"},
		{"//evil.example/", "/account"},
		{"/\\evil.example", "/account"},
		{"javascript:alert(1)", "/account"},
		{"", "/account"},
	}
	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			h.do(h.browser(), "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword},
				"return_to": {tt.returnTo}}).expectRedirect(t, tt.want)
		})
	}
}

func TestIssuerWithAPathServesUnderIt(t *testing.T) {
	h := newHarness(t, func(o *options) { o.issuerPath = "/auth/" })
	b := h.browser()
	h.do(b, "GET", "/auth/login", nil).expect(t, 200, "login")
	h.do(b, "GET", "/login", nil).expect(t, http.StatusNotFound, "error")
	h.do(b, "POST", "/auth/signup", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}).
		expectRedirect(t, "/auth/account")
	css := h.do(b, "GET", "/auth/static/style.css", nil)
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %q", css.status, css.header.Get("Content-Type"))
	}
}

func TestHostileInputGetsAnAnswerNotAServerError(t *testing.T) {
	h := newHarness(t)
	h.signUp(h.browser(), "ann@example.com")
	tests := []struct {
		name   string
		path   string
		form   url.Values
		header []string
		status int
	}{
		{"NUL in the email", "/login", url.Values{"email": {"ann\x00@example.com"}, "password": {"x"}}, nil, 400},
		{"invalid UTF-8 in the email", "/login", url.Values{"email": {"\xff\xfe@example.com"}, "password": {"x"}}, nil, 400},
		{"a 10,000-character email", "/login", url.Values{"email": {strings.Repeat("a", 10000) + "@example.com"}, "password": {"x"}}, nil, 400},
		{"invalid UTF-8 in the password", "/login", url.Values{"email": {"ann@example.com"}, "password": {"\xff\xfe\xfd\x00"}}, nil, 401},
		{"invalid UTF-8 and a tab in the user agent", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}},
			[]string{"User-Agent", "evil\xff\xfe\tagent"}, 303},
		{"invalid UTF-8 in the name", "/signup", url.Values{"email": {"bob@example.com"}, "name": {"\xff"}, "password": {goodPassword}}, nil, 400},
		{"malformed form encoding", "/login", url.Values{"email": {"%zz"}}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(h.browser(), "POST", tt.path, tt.form, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d (alert %q), want %d", r.status, r.alert(), tt.status)
			}
		})
	}
}

func TestTheSecurityPageListsAndEndsSessions(t *testing.T) {
	h := newHarness(t)
	here, there := h.browser(), h.browser()
	h.signUp(here, "ann@example.com")
	h.do(there, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}},
		"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
	page := h.do(here, "GET", "/account/security", nil)
	page.expect(t, 200, "security")
	if !strings.Contains(page.body, "Safari on iPhone") || !strings.Contains(page.body, "This browser") {
		t.Fatalf("security page does not list both sessions:\n%s", page.body)
	}
	sids := sidRE.FindAllStringSubmatch(page.body, -1)
	if len(sids) != 1 {
		t.Fatalf("%d end-session forms, want 1 (not for this browser)", len(sids))
	}
	h.do(here, "POST", "/account/sessions/end", url.Values{"sid": {sids[0][1]}}).expectRedirect(t, "/account/security?done=session-ended")
	h.do(there, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	h.do(here, "GET", "/account", nil).expect(t, 200, "account")

	// Another user cannot end Ann's sessions with their ids.
	laptop := h.browser()
	h.logIn(laptop, "ann@example.com", goodPassword)
	laptopSID := sidRE.FindStringSubmatch(h.do(here, "GET", "/account/security", nil).body)[1]
	bob := h.browser()
	h.signUp(bob, "bob@example.com")
	h.do(bob, "POST", "/account/sessions/end", url.Values{"sid": {laptopSID}}).expectRedirect(t, "/account/security?done=stale")
	h.do(laptop, "GET", "/account", nil).expect(t, 200, "account")
}

var sidRE = regexp.MustCompile(`name="sid" value="([^"]+)"`)
