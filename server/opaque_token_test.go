package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/clients"
)

// webClient registers a confidential web application on the SPA's callback,
// so that it can introspect and revoke its own tokens.
func (p *rp) webClient(t *testing.T, id string) *rp {
	t.Helper()
	secret, hash := clients.NewSecret()
	if err := p.h.st.CreateClient(context.Background(), clients.Client{ID: id, Name: "Regular web app", Type: clients.Web,
		SecretHash: hash, Callbacks: []string{spaCallback}}); err != nil {
		t.Fatal(err)
	}
	c := p.as(id)
	c.cfg.ClientSecret = secret
	return c
}

// loginWithoutAudience is login with no API named, as an application that
// only signs users in asks.
func (p *rp) loginWithoutAudience(t *testing.T, b *http.Client) *oauth2.Token {
	t.Helper()
	f := newFlow()
	u := p.cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce))
	q := callback(t, p.h.do(b, "GET", strings.TrimPrefix(u, p.h.srv.URL), nil))
	tok, err := p.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok
}

func (p *rp) refresh(t *testing.T, tok *oauth2.Token) *oauth2.Token {
	t.Helper()
	next, err := p.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return next
}

func (p *rp) userinfoStatus(t *testing.T, token string) int {
	t.Helper()
	return p.h.do(http.DefaultClient, "GET", "/userinfo", nil, "Authorization", "Bearer "+token).status
}

// introspect asks as p's own (confidential) client.
func (p *rp) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	r := p.h.do(http.DefaultClient, "POST", "/oauth/introspect", url.Values{"token": {token}},
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.cfg.ClientID+":"+p.cfg.ClientSecret)))
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != http.StatusOK {
		t.Fatalf("introspection: %d %q", r.status, r.body)
	}
	return got
}

// TestAccessTokenWithoutAudienceIsOpaque checks the two kinds of access
// token: a grant that names an API gets an RFC 9068 JWT the API can check by
// itself; one that names none gets an opaque token that only Gatehouse can
// check, good for /userinfo and nothing else, as Auth0 does.
func TestAccessTokenWithoutAudienceIsOpaque(t *testing.T) {
	h := newHarness(t)
	spa := h.newSPA(t)
	web := spa.webClient(t, "web")
	b := signedInBrowser(t, h)
	forAPI, _ := web.login(t, b)
	opaque := web.loginWithoutAudience(t, b)

	t.Run("a token for an API is a JWT, one without an audience is not", func(t *testing.T) {
		if strings.Count(forAPI.AccessToken, ".") != 2 {
			t.Errorf("the token for the API is no JWT: %q", forAPI.AccessToken)
		}
		if strings.Count(opaque.AccessToken, ".") == 2 {
			t.Errorf("the token without an audience is a JWT: %q", opaque.AccessToken)
		}
	})
	t.Run("the ID token verifies either way", func(t *testing.T) {
		for _, tok := range []*oauth2.Token{forAPI, opaque} {
			raw, _ := tok.Extra("id_token").(string)
			if _, err := spa.provider.Verifier(&oidc.Config{ClientID: "web"}).Verify(context.Background(), raw); err != nil {
				t.Errorf("ID token does not verify: %v", err)
			}
		}
	})
	t.Run("userinfo takes both", func(t *testing.T) {
		for name, tok := range map[string]string{"JWT": forAPI.AccessToken, "opaque": opaque.AccessToken} {
			if status := web.userinfoStatus(t, tok); status != http.StatusOK {
				t.Errorf("%s token at userinfo: %d", name, status)
			}
		}
	})
	t.Run("introspection shows the opaque token to its client, with no audience", func(t *testing.T) {
		got := web.introspect(t, opaque.AccessToken)
		if got["active"] != true || got["client_id"] != "web" || got["aud"] != nil && len(got["aud"].([]any)) != 0 {
			t.Errorf("introspection of the opaque token: %v", got)
		}
	})
	t.Run("an API checking JWTs refuses the opaque token", func(t *testing.T) {
		// What a resource server does with a bearer token: signature against
		// the JWKS, issuer, audience and expiry.
		api := spa.provider.Verifier(&oidc.Config{ClientID: apiAudience})
		if _, err := api.Verify(context.Background(), forAPI.AccessToken); err != nil {
			t.Fatalf("the API refuses the JWT it should take: %v", err)
		}
		if _, err := api.Verify(context.Background(), opaque.AccessToken); err == nil {
			t.Error("the API took the opaque token")
		}
	})
	t.Run("the admin API refuses the opaque token", func(t *testing.T) {
		h.apiCall(t, opaque.AccessToken, "GET", "/api/admin/settings", "").expect(t, http.StatusUnauthorized, "invalid_audience")
	})
	t.Run("neither kind passes for the other", func(t *testing.T) {
		jwtSig := forAPI.AccessToken[strings.LastIndex(forAPI.AccessToken, ".")+1:]
		opaqueSig := opaque.AccessToken[strings.LastIndex(opaque.AccessToken, ".")+1:]
		jwtHead := forAPI.AccessToken[:strings.LastIndex(forAPI.AccessToken, ".")]
		opaqueKey := opaque.AccessToken[:strings.LastIndex(opaque.AccessToken, ".")]
		forged := map[string]string{
			"the opaque token's key with the JWT's signature":    opaqueKey + "." + jwtSig,
			"the JWT's claims with the opaque token's signature": jwtHead + "." + opaqueSig,
		}
		for name, tok := range forged {
			if status := web.userinfoStatus(t, tok); status != http.StatusUnauthorized {
				t.Errorf("%s at userinfo: %d, want 401", name, status)
			}
			if got := web.introspect(t, tok); got["active"] != false {
				t.Errorf("%s introspects as %v", name, got)
			}
		}
	})
	t.Run("refresh rotates both kinds, keeps each kind and retires the old access token", func(t *testing.T) {
		for name, tok := range map[string]*oauth2.Token{"JWT": forAPI, "opaque": opaque} {
			next := web.refresh(t, tok)
			if next.RefreshToken == tok.RefreshToken || next.AccessToken == tok.AccessToken {
				t.Errorf("%s: the refresh gave back the same tokens", name)
			}
			if strings.Count(next.AccessToken, ".") != strings.Count(tok.AccessToken, ".") {
				t.Errorf("%s: the refresh changed the kind of access token: %q", name, next.AccessToken)
			}
			if status := web.userinfoStatus(t, next.AccessToken); status != http.StatusOK {
				t.Errorf("%s: the refreshed access token at userinfo: %d", name, status)
			}
			if status := web.userinfoStatus(t, tok.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("%s: the access token the refresh replaced at userinfo: %d, want 401", name, status)
			}
		}
	})
	t.Run("a revoked opaque token stops working at once", func(t *testing.T) {
		tok := web.loginWithoutAudience(t, b)
		r := h.do(http.DefaultClient, "POST", "/oauth/revoke", url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}},
			"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("web:"+web.cfg.ClientSecret)))
		if r.status != http.StatusOK {
			t.Fatalf("revocation: %d %q", r.status, r.body)
		}
		if status := web.userinfoStatus(t, tok.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("the revoked token at userinfo: %d, want 401", status)
		}
		if got := web.introspect(t, tok.AccessToken); got["active"] != false {
			t.Errorf("the revoked token introspects as %v", got)
		}
	})
}
