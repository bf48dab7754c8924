package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/clients"
)

// A confidential client authenticates with its secret in the body and sends
// another client's access token as a Bearer header (which fosite alone would
// take as credentials): it still learns nothing about a token not its own.
func TestIntrospectionWithABearerHeaderLearnsNothingOfAnotherClientsToken(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	secret := h.newMachineClient(t, "m2m-app")
	r := h.do(http.DefaultClient, "POST", "/oauth/introspect",
		url.Values{"token": {tok.AccessToken}, "client_id": {"m2m-app"}, "client_secret": {secret}},
		"Authorization", "Bearer "+tok.AccessToken)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("introspection answered %d %q: %v", r.status, r.body, err)
	}
	if body["active"] == true || body["sub"] != nil || body["client_id"] != nil {
		t.Fatalf("introspection with a Bearer header and body credentials: %d %v, want nothing about the SPA's token", r.status, body)
	}
}

// Form-encoding in Basic credentials must not let one client pass for
// another: an id that decodes to another client's id with this client's
// secret, or a secret with an encoded ":" spliced in, is refused.
func TestEncodedBasicCredentialsDoNotAuthenticateAnotherClient(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secretA := h.newMachineClient(t, "m2m-a")
	h.newMachineClient(t, "m2m-b")
	status, tokA, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m-a"},
		"client_secret": {secretA}, "audience": {apiAudience}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, tokA)
	}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	for name, auth := range map[string]string{
		"another id with this secret":          basic("m2m-b", secretA),
		"an encoded id naming another client":  basic("m2m%2Db", url.QueryEscape(secretA)),
		"an id with an encoded colon":          basic("m2m-b%3A"+url.QueryEscape(secretA), ""),
		"the id encoded twice":                 basic("m2m%252Da", url.QueryEscape(secretA)),
		"a secret with a stray percent escape": basic("m2m-a", url.QueryEscape(secretA)+"%"),
	} {
		r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {tokA["access_token"].(string)}}, "Authorization", auth)
		if r.status != http.StatusUnauthorized || strings.Contains(r.body, `"active":true`) {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}
}

// A web application may go without PKCE, but a code issued for an S256
// challenge is bound to it: redeeming it without the verifier, or with
// another one, fails; and a wrong verifier spends the code, so that the
// right one cannot follow it: whoever presented the code without knowing its
// verifier held a code that was not theirs, and the application starts a
// new authorization.
func TestACodeIssuedForAChallengeNeedsItsVerifier(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secret, hash := clients.NewSecret()
	const webCallback = "http://localhost:4000/callback"
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "web", Name: "Regular web app", Type: clients.Web,
		SecretHash: hash, Callbacks: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	b := signedInBrowser(t, h)
	f := newFlow()
	q := url.Values{"client_id": {"web"}, "redirect_uri": {webCallback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {f.state}, "nonce": {f.nonce}, "code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"}}
	r := h.do(b, "GET", "/authorize?"+q.Encode(), nil)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), webCallback) || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d to %q, want a code at the callback", r.status, r.header.Get("Location"))
	}
	code := loc.Query().Get("code")
	exchange := func(extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webCallback},
			"client_id": {"web"}, "client_secret": {secret}}
		for k, v := range extra {
			form[k] = v
		}
		s, body, _ := h.tokenRequest(t, form)
		return s, body
	}
	if s, body := exchange(nil); s == 200 || body["access_token"] != nil {
		t.Fatalf("without the verifier: %d %v, want a refusal", s, body)
	}
	if s, body := exchange(url.Values{"code_verifier": {newFlow().verifier}}); s == 200 || body["access_token"] != nil {
		t.Fatalf("with another verifier: %d %v, want a refusal", s, body)
	}
	if s, body := exchange(url.Values{"code_verifier": {f.verifier}}); s != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("the right verifier after a wrong one: %d %v, want invalid_grant", s, body)
	}
}
