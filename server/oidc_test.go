package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

const (
	spaID       = "spa-client"
	spaCallback = "http://localhost:3000/callback"
	spaOrigin   = "http://localhost:3000"
	apiAudience = "https://api.example.com"

	// apiTokenLifetime differs from the 1-hour default so tests see it applied.
	apiTokenLifetime = 10 * time.Minute
)

// rp is a relying party: the application's side of the flow, played by
// golang.org/x/oauth2 and coreos/go-oidc.
type rp struct {
	h        *harness
	cfg      oauth2.Config
	provider *oidc.Provider
}

func (h *harness) newSPA(t *testing.T) *rp {
	t.Helper()
	ctx := context.Background()
	err := h.st.CreateClient(ctx, clients.Client{ID: spaID, Name: "Sample SPA", Type: clients.SPA,
		Callbacks: []string{spaCallback}, LogoutURLs: []string{spaOrigin + "/"}, WebOrigins: []string{spaOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreateAPI(ctx, clients.API{Identifier: apiAudience, Name: "Example API", TokenLifetime: apiTokenLifetime}); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(ctx, h.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{h: h, provider: provider, cfg: oauth2.Config{
		ClientID:    spaID,
		Endpoint:    provider.Endpoint(),
		RedirectURL: spaCallback,
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}}
}

// flow is one authorization request's secrets.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: "st+/=" + oauth2.GenerateVerifier()[:20], nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
}

func (p *rp) authURL(f flow, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce),
		oauth2.SetAuthURLParam("audience", apiAudience)}, extra...)
	u := p.cfg.AuthCodeURL(f.state, opts...)
	return strings.TrimPrefix(u, p.h.srv.URL)
}

// callback follows the browser to the redirect URI and returns its query.
func callback(t *testing.T, r response) url.Values {
	t.Helper()
	loc := r.header.Get("Location")
	if (r.status != http.StatusFound && r.status != http.StatusSeeOther) || !strings.HasPrefix(loc, spaCallback) {
		t.Fatalf("got %d to %q (alert %q), want a redirect to the callback", r.status, loc, r.alert())
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// login runs the authorization request in a browser that is already signed in
// and exchanges the code.
func (p *rp) login(t *testing.T, b *http.Client) (*oauth2.Token, flow) {
	t.Helper()
	f := newFlow()
	q := callback(t, p.h.do(b, "GET", p.authURL(f), nil))
	if q.Get("state") != f.state {
		t.Fatalf("state came back as %q, want %q byte for byte", q.Get("state"), f.state)
	}
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok, f
}

func (p *rp) verifyIDToken(t *testing.T, tok *oauth2.Token) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token in the token response")
	}
	idt, err := p.provider.Verifier(&oidc.Config{ClientID: spaID}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	return idt
}

func signedInBrowser(t *testing.T, h *harness) *http.Client {
	b := h.browser()
	h.signUp(b, "ann@example.com").expectRedirect(t, "/account")
	return b
}

func TestCodeFlowWithPKCEGivesVerifiableTokens(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	tok, f := p.login(t, b)

	idt := p.verifyIDToken(t, tok)
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != f.nonce {
		t.Errorf("nonce %q, want %q", idt.Nonce, f.nonce)
	}
	if iss := claims["iss"]; iss != h.issuer || !strings.HasSuffix(h.issuer, "/") {
		t.Errorf("iss %v, want %s with its trailing slash", iss, h.issuer)
	}
	for _, name := range []string{"sub", "name", "nickname", "picture", "email", "email_verified", "updated_at", "auth_time", "amr", "sid", "azp"} {
		if _, ok := claims[name]; !ok {
			t.Errorf("ID token lacks %s", name)
		}
	}
	for _, name := range []string{"org_id", "session_expiry"} {
		if _, ok := claims[name]; ok {
			t.Errorf("ID token carries %s, which breaks the Auth0 SDK", name)
		}
	}
	if claims["email"] != "ann@example.com" || claims["azp"] != spaID {
		t.Errorf("claims %v", claims)
	}
	if pic, _ := claims["picture"].(string); !strings.HasPrefix(pic, h.issuer+"avatar/") {
		t.Errorf("picture %q is not served by Gatehouse", pic)
	}
	if exp, ok := tok.Extra("expires_in").(float64); !ok || exp <= 0 || exp > apiTokenLifetime.Seconds() || exp < apiTokenLifetime.Seconds()-10 {
		t.Errorf("expires_in = %#v, want a JSON number near the API's %v", tok.Extra("expires_in"), apiTokenLifetime)
	}
	if tok.RefreshToken == "" {
		t.Error("offline_access granted no refresh token")
	}

	at, err := p.provider.VerifierContext(context.Background(), &oidc.Config{SkipClientIDCheck: true}).
		Verify(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	if !slices.Contains(at.Audience, apiAudience) || !slices.Contains(at.Audience, h.issuer+"userinfo") {
		t.Errorf("access token aud %v, want the API and userinfo", at.Audience)
	}
	if life := at.Expiry.Sub(at.IssuedAt); life > apiTokenLifetime+time.Second || life < apiTokenLifetime-10*time.Second {
		t.Errorf("access token lives %v, want the API's %v", life, apiTokenLifetime)
	}
	var atClaims map[string]any
	if err := at.Claims(&atClaims); err != nil {
		t.Fatal(err)
	}
	if atClaims["azp"] != spaID || atClaims["jti"] == nil || !strings.Contains(atClaims["scope"].(string), "openid") {
		t.Errorf("access token claims %v", atClaims)
	}

	info, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Email != "ann@example.com" || info.Subject != idt.Subject {
		t.Errorf("userinfo %+v", info)
	}
}

func TestAuthorizeSendsTheBrowserThroughLoginAndBack(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	h.signUp(h.browser(), "ann@example.com")
	b := h.browser()
	f := newFlow()

	toLogin := h.do(b, "GET", p.authURL(f, oauth2.SetAuthURLParam("login_hint", "ann@example.com")), nil)
	loc, err := url.Parse(toLogin.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if toLogin.status != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("got %d to %v, want the login screen", toLogin.status, loc)
	}
	form := h.do(b, "GET", loc.String(), nil)
	form.expect(t, 200, "login")
	if !strings.Contains(form.body, `value="ann@example.com"`) {
		t.Error("login_hint did not fill in the email")
	}
	returnTo := loc.Query().Get("return_to")
	back := h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {returnTo}})
	back.expectRedirect(t, returnTo)
	q := callback(t, h.do(b, "GET", returnTo, nil))
	if q.Get("state") != f.state || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	if _, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if r := h.do(b, "GET", returnTo, nil); r.status != http.StatusBadRequest || r.screen() != "error" {
		t.Fatalf("reusing the finished login transaction: %d on %q, want the error page", r.status, r.screen())
	}
}

func TestScreenHintSignupOpensTheSignupScreen(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	r := h.do(h.browser(), "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("screen_hint", "signup")), nil)
	if loc := r.header.Get("Location"); r.status != http.StatusFound || !strings.HasPrefix(loc, "/signup?") {
		t.Fatalf("got %d to %q, want the signup screen", r.status, loc)
	}
}

func TestPromptLoginAndMaxAgeAskForAFreshLoginWithoutLooping(t *testing.T) {
	for _, opt := range []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("prompt", "login"),
		oauth2.SetAuthURLParam("max_age", "0"),
	} {
		h := newHarness(t)
		p := h.newSPA(t)
		b := signedInBrowser(t, h)
		h.clock.Advance(2 * time.Second)
		f := newFlow()
		r := h.do(b, "GET", p.authURL(f, opt), nil)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusFound || loc.Path != "/login" {
			t.Fatalf("signed-in browser: got %d to %v, want the login screen again", r.status, loc)
		}
		h.do(b, "GET", loc.String(), nil).expect(t, 200, "login")
		returnTo := loc.Query().Get("return_to")
		h.do(b, "POST", "/login", url.Values{"email": {"ann@example.com"}, "password": {goodPassword}, "return_to": {returnTo}}).
			expectRedirect(t, returnTo)
		q := callback(t, h.do(b, "GET", returnTo, nil))
		if q.Get("error") != "" {
			t.Fatalf("after a fresh login: %v", q)
		}
	}
}

func TestPromptNoneNeverShowsUI(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	q := callback(t, h.do(h.browser(), "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")), nil))
	if q.Get("error") != "login_required" || !strings.HasPrefix(q.Get("state"), "st+/=") {
		t.Fatalf("prompt=none without a session: %v, want login_required with the state", q)
	}
	b := signedInBrowser(t, h)
	q = callback(t, h.do(b, "GET", p.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")), nil))
	if q.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v, want a code", q)
	}
}

func TestWebMessageSilentAuthentication(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	silent := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("response_mode", "web_message")}

	for _, tc := range []struct {
		name    string
		browser *http.Client
		want    string
	}{
		{"no session", h.browser(), `"error":"login_required"`},
		{"session", signedInBrowser(t, h), `"code":"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow()
			r := h.do(tc.browser, "GET", p.authURL(f, silent...), nil)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("got %d %q, want an HTML page", r.status, r.header.Get("Content-Type"))
			}
			body := strings.ReplaceAll(r.body, `\u002b`, "+")
			body = strings.ReplaceAll(body, `\/`, "/")
			for _, want := range []string{`type: "authorization_response"`, tc.want, `"state":"` + f.state + `"`, `"http://localhost:3000")`} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s:\n%s", want, r.body)
				}
			}
			if xfo := r.header.Get("X-Frame-Options"); xfo != "" {
				t.Errorf("X-Frame-Options %q stops the SPA from framing the page", xfo)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+spaOrigin) || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	b := signedInBrowser(t, h)
	f := newFlow()
	base := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"},
		"scope": {"openid"}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
	with := func(k, v string) string {
		q := url.Values{}
		for key, vals := range base {
			q[key] = vals
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return "/authorize?" + q.Encode()
	}
	pages := []struct{ name, path string }{
		{"unknown client", with("client_id", "nope")},
		{"unregistered redirect_uri", with("redirect_uri", "http://localhost:3000/elsewhere")},
		{"redirect_uri with another port", with("redirect_uri", "http://localhost:3001/callback")},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(b, "GET", tc.path, nil)
			if r.status != http.StatusBadRequest || r.screen() != "error" || r.header.Get("Location") != "" {
				t.Fatalf("got %d on %q to %q, want an error page and no redirect", r.status, r.screen(), r.header.Get("Location"))
			}
		})
	}
	redirects := []struct{ name, path, error string }{
		{"missing PKCE", with("code_challenge", ""), "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
		{"unknown audience", with("audience", "https://unknown.example.com"), "invalid_request"},
		{"unsupported response type", with("response_type", "token"), "unsupported_response_type"},
	}
	for _, tc := range redirects {
		t.Run(tc.name, func(t *testing.T) {
			q := callback(t, h.do(b, "GET", tc.path, nil))
			if q.Get("error") != tc.error || q.Get("state") != f.state {
				t.Fatalf("callback %v, want error %s with the state", q, tc.error)
			}
		})
	}
	t.Run("unknown parameters are ignored", func(t *testing.T) {
		q := callback(t, h.do(b, "GET", with("auth0Client", "eyJuYW1lIjoiYXV0aDAtcmVhY3QifQ=="), nil))
		if q.Get("code") == "" {
			t.Fatalf("callback %v", q)
		}
	})
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenRequest posts a form to the token endpoint and decodes the JSON answer.
func (h *harness) tokenRequest(t *testing.T, form url.Values, header ...string) (int, map[string]any, http.Header) {
	t.Helper()
	r := h.do(http.DefaultClient, "POST", "/oauth/token", form, header...)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("token endpoint answered non-JSON %d: %q", r.status, r.body)
	}
	return r.status, body, r.header
}

func (p *rp) code(t *testing.T, b *http.Client) (string, flow) {
	f := newFlow()
	return callback(t, p.h.do(b, "GET", p.authURL(f), nil)).Get("code"), f
}

func TestTokenEndpointRefusals(t *testing.T) {
	h := newHarness(t, func(o *options) { o.lifetimes.AuthorizeCode = time.Nanosecond })
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	code, f := p.code(t, b)
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
		"code": {code}, "code_verifier": {f.verifier}, "redirect_uri": {spaCallback}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %v, want invalid_grant", status, body)
	}

	h = newHarness(t)
	p = h.newSPA(t)
	b = signedInBrowser(t, h)
	exchange := func(code, verifier, clientID, redirect string) (int, map[string]any) {
		s, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
			"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect}})
		return s, body
	}
	tests := []struct {
		name   string
		run    func() (int, map[string]any)
		status int
		error  string
	}{
		{"wrong verifier", func() (int, map[string]any) {
			c, _ := p.code(t, b)
			return exchange(c, oauth2.GenerateVerifier(), spaID, spaCallback)
		}, 400, "invalid_grant"},
		{"unknown client", func() (int, map[string]any) {
			c, f := p.code(t, b)
			return exchange(c, f.verifier, "nope", spaCallback)
		}, 401, "invalid_client"},
		{"other redirect_uri", func() (int, map[string]any) {
			c, f := p.code(t, b)
			return exchange(c, f.verifier, spaID, "http://localhost:3000/other")
		}, 400, "invalid_grant"},
		{"garbage code", func() (int, map[string]any) { return exchange("garbage", newFlow().verifier, spaID, spaCallback) }, 400, "invalid_grant"},
		{"replayed code", func() (int, map[string]any) {
			c, f := p.code(t, b)
			if s, body := exchange(c, f.verifier, spaID, spaCallback); s != 200 {
				t.Fatalf("first exchange: %d %v", s, body)
			}
			return exchange(c, f.verifier, spaID, spaCallback)
		}, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.run()
			if status != tc.status || body["error"] != tc.error {
				t.Fatalf("got %d %v, want %d %s", status, body, tc.status, tc.error)
			}
		})
	}
}

func TestTokenEndpointAcceptsJSONBodies(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	code, f := p.code(t, signedInBrowser(t, h))
	body, err := json.Marshal(map[string]string{"grant_type": "authorization_code", "client_id": spaID,
		"code": code, "code_verifier": f.verifier, "redirect_uri": spaCallback})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(h.srv.URL+"/oauth/token", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || out["id_token"] == nil {
		t.Fatalf("JSON body: %d %v", resp.StatusCode, out)
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	refresh := func(rt string) (int, map[string]any) {
		s, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID},
			"refresh_token": {rt}, "redirect_uri": {spaCallback}})
		return s, body
	}
	status, first := refresh(tok.RefreshToken)
	if status != 200 || first["refresh_token"] == nil || first["id_token"] == nil || first["refresh_token"] == tok.RefreshToken {
		t.Fatalf("refresh: %d %v, want a new refresh token and an ID token", status, first)
	}
	if status, again := refresh(tok.RefreshToken); status != 200 {
		t.Fatalf("old token inside the reuse interval: %d %v, want it accepted", status, again)
	}
	h.clock.Advance(store.DefaultRefreshReuseInterval + time.Second)
	status, reuse := refresh(tok.RefreshToken)
	if status != 400 || reuse["error"] != "invalid_grant" {
		t.Fatalf("old token after the reuse interval: %d %v, want invalid_grant", status, reuse)
	}
	if d, _ := reuse["error_description"].(string); !strings.Contains(strings.ToLower(d), "invalid refresh token") {
		t.Fatalf("error_description %q lacks what the Auth0 SDK looks for", d)
	}
	if status, newest := refresh(first["refresh_token"].(string)); status != 400 {
		t.Fatalf("newest token after reuse was detected: %d %v, want the family revoked", status, newest)
	}
}

func TestConcurrentRedemptionOfOneCodeHasOneWinner(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	code, f := p.code(t, signedInBrowser(t, h))
	expectOneWinner(t, h, url.Values{"grant_type": {"authorization_code"},
		"client_id": {spaID}, "code": {code}, "code_verifier": {f.verifier}, "redirect_uri": {spaCallback}})
}

// expectOneWinner posts the same token request four times at once and
// expects exactly one success.
func expectOneWinner(t *testing.T, h *harness, form url.Values) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(h.srv.URL+"/oauth/token", form)
			if err == nil {
				statuses[i] = resp.StatusCode
				if err := resp.Body.Close(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if wins := slices.Index(statuses, 200); wins < 0 || slices.Index(statuses[wins+1:], 200) >= 0 {
		t.Fatalf("statuses %v, want exactly one 200", statuses)
	}
}

func TestConcurrentRotationOfOneRefreshTokenHasOneWinner(t *testing.T) {
	h := newHarness(t, func(o *options) { o.refresh.RefreshReuseInterval = 0 })
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	expectOneWinner(t, h, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}})
}

func TestCORSOnTheTokenEndpoint(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	for _, tc := range []struct {
		origin  string
		allowed bool
	}{{spaOrigin, true}, {"http://evil.example", false}} {
		t.Run(tc.origin, func(t *testing.T) {
			pre := h.do(http.DefaultClient, "OPTIONS", "/oauth/token", nil, "Origin", tc.origin,
				"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "auth0-client,content-type")
			got := pre.header.Get("Access-Control-Allow-Origin")
			if (got == tc.origin) != tc.allowed || pre.status >= 300 {
				t.Fatalf("preflight: %d, allow-origin %q", pre.status, got)
			}
			if tc.allowed && !strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "auth0-client") {
				t.Fatalf("preflight allows headers %q", pre.header.Get("Access-Control-Allow-Headers"))
			}
			status, _, header := h.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
				"code": {"garbage"}, "code_verifier": {newFlow().verifier}, "redirect_uri": {spaCallback}}, "Origin", tc.origin)
			if status == 200 || (header.Get("Access-Control-Allow-Origin") == tc.origin) != tc.allowed {
				t.Fatalf("error response: %d, allow-origin %q", status, header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestKeyRotationKeepsOldTokensVerifiable(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	before, _ := p.login(t, b)
	if err := h.keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := p.login(t, b)
	fresh, err := oidc.NewProvider(context.Background(), h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	p.provider = fresh
	p.verifyIDToken(t, before) // signed by the retired key
	p.verifyIDToken(t, after)
	if kid(t, before.Extra("id_token").(string)) == kid(t, after.Extra("id_token").(string)) {
		t.Fatal("tokens before and after rotation share a kid")
	}
}

func kid(t *testing.T, jwt string) string {
	t.Helper()
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	if h.Kid == "" {
		t.Fatalf("token header %s has no kid", header)
	}
	return h.Kid
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)

	r := h.do(b, "GET", "/v2/logout?client_id="+spaID+"&returnTo="+url.QueryEscape("http://evil.example/"), nil)
	if r.status != 400 || r.screen() != "error" {
		t.Fatalf("disallowed returnTo: %d on %q", r.status, r.screen())
	}
	h.do(b, "GET", "/account", nil).expect(t, 200, "account")

	r = h.do(b, "GET", "/v2/logout?client_id="+spaID+"&returnTo="+url.QueryEscape(spaOrigin+"/")+"&federated", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != spaOrigin+"/" {
		t.Fatalf("allowed returnTo: %d to %q", r.status, r.header.Get("Location"))
	}
	h.do(b, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")

	b = h.browser()
	h.logIn(b, "ann@example.com", goodPassword)
	tok, _ := p.login(t, b)
	hint := tok.Extra("id_token").(string)
	r = h.do(b, "GET", "/oidc/logout?id_token_hint="+hint+"&post_logout_redirect_uri="+url.QueryEscape(spaOrigin+"/")+"&state=s1", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != spaOrigin+"/?state=s1" {
		t.Fatalf("RP-initiated logout: %d to %q", r.status, r.header.Get("Location"))
	}
	h.do(b, "GET", "/account", nil).expectRedirect(t, "/login?return_to=%2Faccount")
	r = h.do(h.browser(), "GET", "/oidc/logout?id_token_hint=garbage&post_logout_redirect_uri="+url.QueryEscape(spaOrigin+"/"), nil)
	if r.status != 400 {
		t.Fatalf("forged hint: %d", r.status)
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.DefaultClient, "GET", "/.well-known/openid-configuration", nil)
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("discovery %d %q: %v", r.status, r.header.Get("Access-Control-Allow-Origin"), err)
	}
	if doc["issuer"] != h.issuer || doc["jwks_uri"] != h.issuer+".well-known/jwks.json" {
		t.Fatalf("discovery %v", doc)
	}
	j := h.do(http.DefaultClient, "GET", "/.well-known/jwks.json", nil)
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(j.body), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || j.header.Get("Access-Control-Allow-Origin") != "*" || j.header.Get("Cache-Control") == "" {
		t.Fatalf("JWKS: %d keys, headers %v", len(set.Keys), j.header)
	}
}

func TestClientCredentialsForMachineClients(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "m2m", Name: "Cron", Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m"},
		"client_secret": {secret}, "audience": {apiAudience}})
	if status != 200 || body["access_token"] == nil || body["refresh_token"] != nil || body["id_token"] != nil {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	status, body, _ = h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m"},
		"client_secret": {"wrong"}, "audience": {apiAudience}})
	if status != 401 || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
}

func TestResponseModesFragmentAndFormPost(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)

	f := newFlow()
	r := h.do(b, "GET", p.authURL(f, oauth2.SetAuthURLParam("response_mode", "fragment")), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	frag, err := url.ParseQuery(loc.EscapedFragment())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.header.Get("Location"), spaCallback+"#") || frag.Get("code") == "" || frag.Get("state") != f.state {
		t.Fatalf("fragment mode: %d to %q", r.status, r.header.Get("Location"))
	}

	f = newFlow()
	r = h.do(b, "GET", p.authURL(f, oauth2.SetAuthURLParam("response_mode", "form_post")), nil)
	if r.status != 200 || !strings.Contains(r.body, `action="`+spaCallback+`"`) || !strings.Contains(r.body, `name="code"`) {
		t.Fatalf("form_post page: %d\n%s", r.status, r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action "+spaOrigin) || !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("form_post CSP %q", csp)
	}
}

func TestDeletingAClientEndsItsTokens(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	if err := h.st.DeleteClient(context.Background(), spaID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo accepted a token of a deleted client")
	}
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}})
	if status == 200 {
		t.Fatalf("refresh for a deleted client: %d %v", status, body)
	}
}

func TestIntrospectionIsForConfidentialClientsOnly(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "api-server", Name: "API", Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	introspect := func(header ...string) (int, map[string]any) {
		r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, header...)
		var body map[string]any
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatal(err)
		}
		return r.status, body
	}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	if status, body := introspect("Authorization", basic("api-server", secret)); status != 200 || len(body) != 1 || body["active"] != false {
		t.Fatalf("confidential client asking about another client's token: %d %v, want only active false", status, body)
	}
	for name, auth := range map[string]string{
		"the SPA's own access token": "Bearer " + tok.AccessToken,
		"a public client":            basic(spaID, ""),
		"a wrong secret":             basic("api-server", "wrong"),
	} {
		if status, body := introspect("Authorization", auth); status != 401 || body["active"] != nil {
			t.Errorf("%s: %d %v, want 401", name, status, body)
		}
	}
}

// TestIntrospectionShowsAClientOnlyItsOwnTokens: a confidential client that
// learns another application's token (from a log, a proxy, a shared cache)
// must not learn through introspection whose it is, what it grants, or that
// it is live.
func TestIntrospectionShowsAClientOnlyItsOwnTokens(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	ctx := context.Background()
	webSecret, webHash := clients.NewSecret()
	const webCallback = "http://localhost:4000/callback"
	if err := h.st.CreateClient(ctx, clients.Client{ID: "web-app", Name: "Web", Type: clients.Web, SecretHash: webHash,
		Callbacks: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	m2mSecret, m2mHash := clients.NewSecret()
	if err := h.st.CreateClient(ctx, clients.Client{ID: "cron", Name: "Cron", Type: clients.M2M, SecretHash: m2mHash}); err != nil {
		t.Fatal(err)
	}

	// The web app's tokens, from a real code flow.
	web := oauth2.Config{ClientID: "web-app", ClientSecret: webSecret, RedirectURL: webCallback,
		Endpoint: oauth2.Endpoint{AuthURL: h.issuer + "authorize", TokenURL: h.issuer + "oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}}
	f := newFlow()
	r := h.do(signedInBrowser(t, h), "GET", strings.TrimPrefix(web.AuthCodeURL(f.state, oidc.Nonce(f.nonce),
		oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("audience", apiAudience)), h.srv.URL), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.header.Get("Location"), webCallback) || loc.Query().Get("code") == "" {
		t.Fatalf("web app's authorization: %d to %q", r.status, r.header.Get("Location"))
	}
	webTok, err := web.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil || webTok.RefreshToken == "" {
		t.Fatalf("web app's code exchange: %v (refresh token %q)", err, webTok.RefreshToken)
	}
	// The machine client's token, from client credentials.
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"cron"},
		"client_secret": {m2mSecret}, "audience": {apiAudience}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	m2mToken := body["access_token"].(string)

	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	tests := []struct {
		name, caller, token string
		active              bool
	}{
		{"web app, its access token", basic("web-app", webSecret), webTok.AccessToken, true},
		{"web app, its refresh token", basic("web-app", webSecret), webTok.RefreshToken, true},
		{"machine client, its access token", basic("cron", m2mSecret), m2mToken, true},
		{"machine client, the web app's access token", basic("cron", m2mSecret), webTok.AccessToken, false},
		{"machine client, the web app's refresh token", basic("cron", m2mSecret), webTok.RefreshToken, false},
		{"web app, the machine client's access token", basic("web-app", webSecret), m2mToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {tt.token}}, "Authorization", tt.caller)
			var got map[string]any
			if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 {
				t.Fatalf("%d %q", r.status, r.body)
			}
			if got["active"] != tt.active {
				t.Fatalf("active %v, want %v: %v", got["active"], tt.active, got)
			}
			if !tt.active && len(got) != 1 {
				t.Fatalf("an inactive answer says more than active false: %v", got)
			}
		})
	}
	t.Run("credentials in the body", func(t *testing.T) {
		r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {webTok.AccessToken},
			"client_id": {"web-app"}, "client_secret": {webSecret}})
		if r.status != 200 || !strings.Contains(r.body, `"active":true`) {
			t.Fatalf("%d %s, want the web app's own token active", r.status, r.body)
		}
	})
}

func TestRevocationEndsTheGrant(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	r := h.do(http.DefaultClient, "POST", "/oauth/revoke", url.Values{"client_id": {spaID}, "token": {tok.RefreshToken},
		"token_type_hint": {"refresh_token"}}, "Origin", spaOrigin)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("revoke: %d %q, allow-origin %q", r.status, r.body, r.header.Get("Access-Control-Allow-Origin"))
	}
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("revoked refresh token: %d %v", status, body)
	}
	if _, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the access token of a revoked grant still works at userinfo")
	}
	if r := h.do(http.DefaultClient, "POST", "/oauth/revoke", url.Values{"client_id": {spaID}, "token": {"unknown"}}); r.status != 200 {
		t.Fatalf("revoking an unknown token: %d, want 200 (RFC 7009)", r.status)
	}
}

func TestACodeIsBoundToItsClient(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "other-spa", Name: "Other", Type: clients.SPA,
		Callbacks: []string{spaCallback}}); err != nil {
		t.Fatal(err)
	}
	code, f := p.code(t, signedInBrowser(t, h))
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {"other-spa"},
		"code": {code}, "code_verifier": {f.verifier}, "redirect_uri": {spaCallback}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("another client redeeming the code: %d %v, want invalid_grant", status, body)
	}
}

func TestChangingThePasswordRevokesRefreshTokens(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	b := signedInBrowser(t, h)
	tok, _ := p.login(t, b)
	h.do(b, "POST", "/account/password", url.Values{"current_password": {goodPassword},
		"new_password": {"a brand new phrase"}}).expect(t, 200, "account")
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok.RefreshToken}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh token issued before the password change: %d %v, want invalid_grant", status, body)
	}
	if _, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("an access token issued before the password change still works at userinfo")
	}
	// The browser that changed the password stays signed in and can get new tokens.
	p.login(t, b)
}

// TestRedirectURIsMatchExactlyUnlessTheAppIsNative: fosite lets a loopback
// IP callback come back on any port (RFC 8252 §7.3), which only native apps
// need. For a browser app another port on the user's machine is another
// program, and must not receive the code.
func TestRedirectURIsMatchExactlyUnlessTheAppIsNative(t *testing.T) {
	h := newHarness(t)
	const registered = "http://127.0.0.1:3000/cb"
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "loopback-spa", Name: "Loopback SPA", Type: clients.SPA,
		Callbacks: []string{registered}}); err != nil {
		t.Fatal(err)
	}
	b := signedInBrowser(t, h)
	authorize := func(clientID, redirectURI string, extra ...string) response {
		f := newFlow()
		q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
			"scope": {"openid"}, "state": {f.state}, "nonce": {f.nonce},
			"code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return h.do(b, "GET", "/authorize?"+q.Encode(), nil)
	}
	refused := func(t *testing.T, r response) {
		t.Helper()
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || r.screen() != "error" {
			t.Fatalf("got %d to %q on screen %q, want the error page and no redirect", r.status, r.header.Get("Location"), r.screen())
		}
	}
	t.Run("spa, the registered port", func(t *testing.T) {
		if r := authorize("loopback-spa", registered); !strings.HasPrefix(r.header.Get("Location"), registered+"?code=") {
			t.Fatalf("got %d to %q, want the code at the callback", r.status, r.header.Get("Location"))
		}
	})
	t.Run("spa, another port", func(t *testing.T) {
		refused(t, authorize("loopback-spa", "http://127.0.0.1:4000/cb"))
	})
	t.Run("spa, another port and an invalid scope", func(t *testing.T) {
		// An error must not travel to the unregistered port either.
		refused(t, authorize("loopback-spa", "http://127.0.0.1:4000/cb", "scope", "openid admin:everything"))
	})
	t.Run("spa, no port", func(t *testing.T) {
		refused(t, authorize("loopback-spa", "http://127.0.0.1/cb"))
	})

	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "desktop", Name: "Desktop app", Type: clients.Native,
		Callbacks: []string{registered, "http://localhost:3000/cb"}}); err != nil {
		t.Fatal(err)
	}
	t.Run("native, another port", func(t *testing.T) {
		const other = "http://127.0.0.1:53682/cb"
		f := newFlow()
		q := url.Values{"client_id": {"desktop"}, "response_type": {"code"}, "redirect_uri": {other},
			"scope": {"openid offline_access"}, "state": {f.state}, "nonce": {f.nonce},
			"code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
		r := h.do(b, "GET", "/authorize?"+q.Encode(), nil)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.header.Get("Location"), other+"?") || loc.Query().Get("code") == "" {
			t.Fatalf("got %d to %q, want the code on the app's port", r.status, r.header.Get("Location"))
		}
		status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {"desktop"},
			"code": {loc.Query().Get("code")}, "code_verifier": {f.verifier}, "redirect_uri": {other}})
		if status != 200 || body["refresh_token"] == nil || body["id_token"] == nil {
			t.Fatalf("native code exchange: %d %v", status, body)
		}
	})
	for name, uri := range map[string]string{
		"native, another path":            "http://127.0.0.1:4000/other",
		"native, another query":           "http://127.0.0.1:4000/cb?x=1",
		"native, another loopback IP":     "http://127.0.0.2:4000/cb",
		"native, localhost on a new port": "http://localhost:4000/cb",
		"native, https on a new port":     "https://127.0.0.1:4000/cb",
	} {
		t.Run(name, func(t *testing.T) { refused(t, authorize("desktop", uri)) })
	}
	t.Run("native, without PKCE", func(t *testing.T) {
		q := url.Values{"client_id": {"desktop"}, "response_type": {"code"}, "redirect_uri": {registered},
			"scope": {"openid"}, "state": {"some-state-value"}, "nonce": {"some-nonce-value"}}
		r := h.do(b, "GET", "/authorize?"+q.Encode(), nil)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("code") != "" {
			t.Fatalf("got %d to %q, want invalid_request for a public client without PKCE", r.status, r.header.Get("Location"))
		}
	})
}
