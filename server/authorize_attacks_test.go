package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
)

// noPKCE is an authorization request for clientID with no code_challenge,
// which /authorize refuses before any screen; extra is laid over it.
func noPKCE(clientID string, extra url.Values) string {
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st"}}
	for k, v := range extra {
		q[k] = v
	}
	return "/authorize?" + q.Encode()
}

// The PKCE refusal goes to the redirect URI only when that URI is one of the
// application's callbacks, character for character: a near miss, an address
// that smuggles another host, or a missing redirect_uri when the application
// has several gets Gatehouse's error page, and nothing goes anywhere.
func TestAPKCERefusalIsNeverRedirectedToAnUnregisteredAddress(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "two-callbacks", Name: "Two", Type: clients.SPA,
		Callbacks: []string{"http://localhost:3000/a", "http://localhost:3000/b"}, WebOrigins: []string{spaOrigin}}); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"trailing slash":               noPKCE(spaID, url.Values{"redirect_uri": {spaCallback + "/"}}),
		"upper-case host":              noPKCE(spaID, url.Values{"redirect_uri": {"http://LOCALHOST:3000/callback"}}),
		"extra query":                  noPKCE(spaID, url.Values{"redirect_uri": {spaCallback + "?next=http://evil.example"}}),
		"userinfo naming another host": noPKCE(spaID, url.Values{"redirect_uri": {"http://localhost:3000@evil.example/callback"}}),
		"another port":                 noPKCE(spaID, url.Values{"redirect_uri": {"http://localhost:3001/callback"}}),
		"encoded path":                 noPKCE(spaID, url.Values{"redirect_uri": {"http://localhost:3000/%63allback"}}),
		"dot segment":                  noPKCE(spaID, url.Values{"redirect_uri": {"http://localhost:3000/x/../callback"}}),
		"fragment":                     noPKCE(spaID, url.Values{"redirect_uri": {spaCallback + "#x"}}),
		"missing with two callbacks":   noPKCE("two-callbacks", nil),
		"unknown client":               noPKCE("nobody", url.Values{"redirect_uri": {spaCallback}}),
		"form_post to an unregistered": noPKCE(spaID, url.Values{"redirect_uri": {"http://evil.example/cb"}, "response_mode": {"form_post"}}),
		"web_message to an unregistered": noPKCE(spaID, url.Values{"redirect_uri": {"http://evil.example/cb"},
			"response_mode": {"web_message"}, "prompt": {"none"}}),
	} {
		t.Run(name, func(t *testing.T) {
			r := h.do(h.browser(), "GET", path, nil)
			if r.header.Get("Location") != "" || strings.Contains(r.body, "evil.example") || r.status != http.StatusBadRequest {
				t.Fatalf("got %d to %q on %q, want the error page and nothing sent anywhere", r.status, r.header.Get("Location"), r.screen())
			}
		})
	}
}

// What the request carried comes back escaped: on the error page, in a
// form_post page (the state is reflected there) and in a web_message page.
func TestAuthorizeErrorsReflectNothingUnescaped(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	const payload = `"><script>alert(1)</script>`
	page := h.do(h.browser(), "GET", noPKCE(payload, url.Values{"redirect_uri": {spaCallback}}), nil)
	if page.status != http.StatusBadRequest || strings.Contains(page.body, "<script>alert") {
		t.Fatalf("unknown client named with markup: %d, body reflects it raw: %v", page.status, strings.Contains(page.body, "<script>alert"))
	}
	for _, mode := range []string{"form_post", "web_message"} {
		r := h.do(h.browser(), "GET", noPKCE(spaID, url.Values{"redirect_uri": {spaCallback}, "response_mode": {mode},
			"state": {payload + "</script><script>alert(2)//"}}), nil)
		if r.status >= 500 || strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "</script><script>") {
			t.Fatalf("%s error with markup in the state: %d\n%s", mode, r.status, r.body)
		}
		if !strings.Contains(r.body, "invalid_request") {
			t.Fatalf("%s error page does not carry invalid_request:\n%s", mode, r.body)
		}
	}
}

// A web_message error is posted only to an allowed web origin: an application
// whose callback is registered but whose web origins do not include it gets
// no page that posts anything to that origin.
func TestAWebMessageRefusalPostsOnlyToAnAllowedWebOrigin(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	const other = "http://localhost:5000"
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "no-origins", Name: "No origins", Type: clients.SPA,
		Callbacks: []string{other + "/cb"}}); err != nil {
		t.Fatal(err)
	}
	r := h.do(h.browser(), "GET", noPKCE("no-origins", url.Values{"redirect_uri": {other + "/cb"}, "response_mode": {"web_message"},
		"prompt": {"none"}}), nil)
	if strings.Contains(r.body, "postMessage") || r.header.Get("Location") != "" {
		t.Fatalf("got %d to %q with a page that posts: %s", r.status, r.header.Get("Location"), r.body)
	}
}

// An admin who tightens the policy on a replica has it applied there by the
// very next request: the settings cache on that replica is invalidated by
// the change, so no login goes through on the looser policy meanwhile.
func TestATightenedPolicyAppliesOnTheSameReplicaAtOnce(t *testing.T) {
	h := newHarness(t, func(o *options) { o.plivo = true })
	p := h.newSPA(t)
	ctx := context.Background()
	if err := h.settings.Set(ctx, map[string]string{settings.KeyPolicy: string(mfa.PolicyNever)}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	b := signedInBrowser(t, h)
	p.login(t, b) // under never, the password alone gets a code
	if err := h.settings.Set(ctx, map[string]string{settings.KeyPolicy: string(mfa.PolicyAlways)}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	r := h.do(b, "GET", p.authURL(newFlow()), nil)
	if loc := r.header.Get("Location"); strings.HasPrefix(loc, spaCallback) {
		t.Fatalf("right after the policy became always, a password-only session got %q", loc)
	}
}
