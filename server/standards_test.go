package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/clients"
)

// These tests hold Gatehouse to the letter of the specifications that strict
// relying-party libraries (oauth4webapi, openid-client; e2e/strict-rp) check.

// jwtPart decodes part 0 (header) or 1 (claims) of a compact JWT.
func jwtPart(t *testing.T, raw string, part int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("%.30q is not a compact JWT", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newMachineClient registers an m2m application and returns its secret.
func (h *harness) newMachineClient(t *testing.T, id string) string {
	t.Helper()
	secret, hash := clients.NewSecret()
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: id, Name: "Cron", Type: clients.M2M, SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestAccessTokensAreRFC9068JWTs checks the JWT access token profile: header
// typ at+jwt, and iss, exp, aud, sub, client_id, iat and jti in the claims,
// for a user's token and a machine's.
func TestAccessTokensAreRFC9068JWTs(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	secret := h.newMachineClient(t, "m2m")
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m"},
		"client_secret": {secret}, "audience": {apiAudience}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	machine, _ := body["access_token"].(string)

	for _, tc := range []struct {
		name, token, clientID, sub string
	}{
		{"a user's token", tok.AccessToken, spaID, ""},
		{"a machine's token", machine, "m2m", "m2m@clients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if typ := jwtPart(t, tc.token, 0)["typ"]; typ != "at+jwt" {
				t.Errorf("header typ %v, want at+jwt", typ)
			}
			claims := jwtPart(t, tc.token, 1)
			for _, name := range []string{"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} {
				if claims[name] == nil || claims[name] == "" {
					t.Errorf("access token lacks %s: %v", name, claims)
				}
			}
			if claims["client_id"] != tc.clientID || claims["azp"] != tc.clientID {
				t.Errorf("client_id %v, azp %v; want both %s (azp for Auth0's libraries)", claims["client_id"], claims["azp"], tc.clientID)
			}
			if tc.sub != "" && claims["sub"] != tc.sub {
				t.Errorf("sub %v, want %s", claims["sub"], tc.sub)
			}
		})
	}
}

// TestPKCEIsCheckedBeforeAnyScreen checks that a request PKCE refuses never
// reaches the login screen: with a trustworthy redirect URI the error goes
// there with the state (RFC 6749 §4.1.2.1), otherwise it is shown on a page.
func TestPKCEIsCheckedBeforeAnyScreen(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	_, webHash := clients.NewSecret()
	const webCallback = "http://localhost:4000/callback"
	if err := h.st.CreateClient(context.Background(), clients.Client{ID: "web", Name: "Regular web app", Type: clients.Web,
		SecretHash: webHash, Callbacks: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	f := newFlow()
	request := func(clientID, redirectURI string, pkce ...string) string {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {f.state}, "nonce": {f.nonce}}
		for i := 0; i+1 < len(pkce); i += 2 {
			q.Set(pkce[i], pkce[i+1])
		}
		return "/authorize?" + q.Encode()
	}
	s256 := s256(f.verifier)
	refused := []struct{ name, path, redirectURI string }{
		{"spa without a code_challenge", request(spaID, spaCallback), spaCallback},
		{"spa with plain", request(spaID, spaCallback, "code_challenge", f.verifier, "code_challenge_method", "plain"), spaCallback},
		{"spa with a challenge and no method (plain by default)", request(spaID, spaCallback, "code_challenge", s256), spaCallback},
		{"spa with an unknown method", request(spaID, spaCallback, "code_challenge", s256, "code_challenge_method", "S512"), spaCallback},
		{"spa with a method and no challenge", request(spaID, spaCallback, "code_challenge_method", "S256"), spaCallback},
		{"spa with a challenge that is no SHA-256", request(spaID, spaCallback, "code_challenge", "short", "code_challenge_method", "S256"), spaCallback},
		{"web app with plain", request("web", webCallback, "code_challenge", f.verifier, "code_challenge_method", "plain"), webCallback},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(h.browser(), "GET", tc.path, nil)
			loc := r.header.Get("Location")
			if r.status != http.StatusSeeOther && r.status != http.StatusFound || !strings.HasPrefix(loc, tc.redirectURI+"?") {
				t.Fatalf("got %d to %q (screen %q), want the error at the redirect URI", r.status, loc, r.screen())
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("redirect %q: %v", loc, err)
			}
			if q := u.Query(); q.Get("error") != "invalid_request" || q.Get("state") != f.state || q.Get("code") != "" {
				t.Fatalf("redirect %v, want error=invalid_request with the state and no code", q)
			}
		})
	}
	t.Run("unknown client without PKCE gets the error page", func(t *testing.T) {
		r := h.do(h.browser(), "GET", request("nope", spaCallback), nil)
		if r.status != http.StatusBadRequest || r.screen() != "error" || r.header.Get("Location") != "" {
			t.Fatalf("got %d on %q to %q, want the error page", r.status, r.screen(), r.header.Get("Location"))
		}
	})
	t.Run("unregistered redirect URI without PKCE gets the error page", func(t *testing.T) {
		r := h.do(h.browser(), "GET", request(spaID, "http://localhost:3000/elsewhere"), nil)
		if r.status != http.StatusBadRequest || r.screen() != "error" || r.header.Get("Location") != "" {
			t.Fatalf("got %d on %q to %q, want the error page", r.status, r.screen(), r.header.Get("Location"))
		}
	})
	for _, tc := range []struct{ name, path string }{
		{"spa with S256 goes to the login screen", request(spaID, spaCallback, "code_challenge", s256, "code_challenge_method", "S256")},
		{"confidential web app without PKCE goes to the login screen", request("web", webCallback)},
		{"confidential web app with S256 goes to the login screen", request("web", webCallback, "code_challenge", s256, "code_challenge_method", "S256")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(h.browser(), "GET", tc.path, nil)
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil || r.status != http.StatusFound || loc.Path != "/login" {
				t.Fatalf("got %d to %q (%v), want the login screen", r.status, r.header.Get("Location"), err)
			}
		})
	}
}

// TestUnknownGrantTypesAreUnsupported checks RFC 6749 §5.2: a grant type the
// server does not offer is unsupported_grant_type, a missing one
// invalid_request.
func TestUnknownGrantTypesAreUnsupported(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secret := h.newMachineClient(t, "m2m")
	for _, tc := range []struct {
		name, grantType, error string
	}{
		{"password", "password", "unsupported_grant_type"},
		{"implicit", "implicit", "unsupported_grant_type"},
		{"jwt bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer", "unsupported_grant_type"},
		{"device code", "urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type"},
		{"two grant types at once", "client_credentials refresh_token", "unsupported_grant_type"},
		{"missing", "", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"client_id": {"m2m"}, "client_secret": {secret}, "audience": {apiAudience}}
			if tc.grantType != "" {
				form.Set("grant_type", tc.grantType)
			}
			status, body, _ := h.tokenRequest(t, form)
			if status != http.StatusBadRequest || body["error"] != tc.error {
				t.Fatalf("got %d %v, want 400 %s", status, body, tc.error)
			}
		})
	}
}

// TestIDTokenClaimsAreAuth0Shaped checks the ID token's claim set, from the
// code exchange and from a refresh: aud is a plain string (one audience, as
// Auth0 sends it) and no claim outside the documented set appears (fosite
// would add "rat").
func TestIDTokenClaimsAreAuth0Shaped(t *testing.T) {
	h := newHarness(t)
	p := h.newSPA(t)
	tok, _ := p.login(t, signedInBrowser(t, h))
	refreshed, err := p.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	documented := []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "jti", "at_hash",
		"name", "nickname", "picture", "updated_at", "email", "email_verified"}
	for name, tok := range map[string]*oauth2.Token{"code exchange": tok, "refresh": refreshed} {
		t.Run(name, func(t *testing.T) {
			raw, _ := tok.Extra("id_token").(string)
			claims := jwtPart(t, raw, 1)
			if claims["aud"] != spaID {
				t.Errorf("aud %#v, want the string %q", claims["aud"], spaID)
			}
			for claim := range claims {
				if !slices.Contains(documented, claim) {
					t.Errorf("ID token carries %q, which docs/oidc.md does not list", claim)
				}
			}
			p.verifyIDToken(t, tok)
		})
	}
}

// TestDiscoveryMatchesTheSpecifications reads the discovery document field by
// field against OpenID Connect Discovery 1.0 §3 and RFC 8414 §2: what is
// advertised is implemented, and what is implemented is advertised. The same
// document is served as RFC 8414 authorization server metadata.
func TestDiscoveryMatchesTheSpecifications(t *testing.T) {
	h := newHarness(t)
	i := h.issuer
	want := map[string]any{
		"issuer":                                        i,
		"authorization_endpoint":                        i + "authorize",
		"token_endpoint":                                i + "oauth/token",
		"userinfo_endpoint":                             i + "userinfo",
		"jwks_uri":                                      i + ".well-known/jwks.json",
		"revocation_endpoint":                           i + "oauth/revoke",
		"introspection_endpoint":                        i + "oauth/introspect",
		"end_session_endpoint":                          i + "oidc/logout",
		"response_types_supported":                      []any{"code"},
		"response_modes_supported":                      []any{"query", "fragment", "form_post", "web_message"},
		"grant_types_supported":                         []any{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                       []any{"public"},
		"id_token_signing_alg_values_supported":         []any{"RS256"},
		"token_endpoint_auth_methods_supported":         []any{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":              []any{"S256"},
		"scopes_supported":                              []any{"openid", "profile", "email", "offline_access"},
		"claims_supported": []any{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "azp",
			"name", "nickname", "picture", "updated_at", "email", "email_verified"},
		"claim_types_supported":           []any{"normal"},
		"request_parameter_supported":     false,
		"request_uri_parameter_supported": false,
		"claims_parameter_supported":      false,
		"frontchannel_logout_supported":   false,
		"backchannel_logout_supported":    false,
		"prompt_values_supported":         []any{"none", "login"},
		"acr_values_supported": []any{"http://schemas.openid.net/pape/policies/2007/06/multi-factor",
			"http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"},
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		t.Run(path, func(t *testing.T) {
			r := h.do(http.DefaultClient, "GET", path, nil)
			var doc map[string]any
			if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.status != 200 {
				t.Fatalf("%d %q: %v", r.status, r.body, err)
			}
			for k, v := range want {
				got, err := json.Marshal(doc[k])
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				exp, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				if string(got) != string(exp) {
					t.Errorf("%s = %s, want %s", k, got, exp)
				}
			}
			for k := range doc {
				if _, ok := want[k]; !ok {
					t.Errorf("%s is advertised but not checked here", k)
				}
			}
		})
	}

	// What the document advertises, tried.
	p := h.newSPA(t)
	t.Run("an unadvertised response mode is refused", func(t *testing.T) {
		f := newFlow()
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"}, "scope": {"openid"},
			"state": {f.state}, "nonce": {f.nonce}, "code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"},
			"response_mode": {"query.jwt"}}
		refusedOnPage(t, h.do(h.browser(), "GET", "/authorize?"+q.Encode(), nil), "unsupported_response_mode")
	})
	t.Run("a request object is refused", func(t *testing.T) {
		f := newFlow()
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"}, "scope": {"openid"},
			"state": {f.state}, "nonce": {f.nonce}, "code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"},
			"request": {"eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."}}
		refusedOnPage(t, h.do(h.browser(), "GET", "/authorize?"+q.Encode(), nil), "request_not_supported")
	})
	t.Run("a request_uri is refused", func(t *testing.T) {
		f := newFlow()
		q := url.Values{"client_id": {spaID}, "redirect_uri": {spaCallback}, "response_type": {"code"}, "scope": {"openid"},
			"state": {f.state}, "nonce": {f.nonce}, "code_challenge": {s256(f.verifier)}, "code_challenge_method": {"S256"},
			"request_uri": {"https://app.example.com/request.jwt"}}
		refusedOnPage(t, h.do(h.browser(), "GET", "/authorize?"+q.Encode(), nil), "request_uri_not_supported")
	})
	t.Run("userinfo answers GET and POST", func(t *testing.T) {
		tok, _ := p.login(t, signedInBrowser(t, h))
		for _, method := range []string{"GET", "POST"} {
			r := h.do(http.DefaultClient, method, "/userinfo", nil, "Authorization", "Bearer "+tok.AccessToken)
			if r.status != 200 || !strings.Contains(r.body, `"sub"`) {
				t.Errorf("%s userinfo: %d %q", method, r.status, r.body)
			}
		}
	})
}

// refusedOnPage expects an authorization request refused on Gatehouse's error
// page, naming the error. fosite meets these parameters before it has checked
// the redirect URI, and an unchecked redirect URI is never sent anything.
func refusedOnPage(t *testing.T, r response, error string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.screen() != "error" || r.header.Get("Location") != "" || !strings.Contains(r.body, error) {
		t.Fatalf("got %d on %q to %q, want the error page naming %s", r.status, r.screen(), r.header.Get("Location"), error)
	}
}

// TestIntrospectionTakesFormEncodedBasicCredentials checks RFC 6749 §2.3.1:
// the client id and secret in Basic auth are form-encoded first, and
// libraries that follow it to the letter (oauth4webapi) encode even "-" and
// "_", which client secrets contain.
func TestIntrospectionTakesFormEncodedBasicCredentials(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secret := h.newMachineClient(t, "m2m-app")
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m-app"},
		"client_secret": {secret}, "audience": {apiAudience}})
	if status != 200 {
		t.Fatalf("client credentials: %d %v", status, body)
	}
	strict := func(s string) string {
		return strings.NewReplacer("-", "%2D", "_", "%5F").Replace(url.QueryEscape(s))
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(strict("m2m-app")+":"+strict(secret)))
	r := h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {body["access_token"].(string)}}, "Authorization", auth)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 || got["active"] != true || got["client_id"] != "m2m-app" {
		t.Fatalf("introspection with form-encoded Basic credentials: %d %q", r.status, r.body)
	}
}

// TestClientCredentialsNeedAnAudience checks that no access token goes out
// without an aud, which RFC 9068 §2.2 requires: a machine client must name
// the API it calls, as with Auth0.
func TestClientCredentialsNeedAnAudience(t *testing.T) {
	h := newHarness(t)
	h.newSPA(t)
	secret := h.newMachineClient(t, "m2m")
	status, body, _ := h.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"m2m"}, "client_secret": {secret}})
	if status != http.StatusBadRequest || body["error"] != "invalid_request" || body["access_token"] != nil {
		t.Fatalf("client credentials without an audience: %d %v, want 400 invalid_request", status, body)
	}
}
