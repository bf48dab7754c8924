package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/password"
)

// BenchmarkLogin measures a whole password login over HTTP: form parsing,
// limits check, user lookup, verification, counter reset, audit, session
// insert and the redirect. "owasp" uses the production argon2id parameters;
// "no-hash-cost" makes hashing nearly free, so it shows what everything else
// costs.
func BenchmarkLogin(b *testing.B) {
	for _, bc := range []struct {
		name   string
		params password.Params
	}{
		{"owasp", password.OWASP()},
		{"no-hash-cost", accounttest.CheapParams},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newBenchHarness(b, bc.params)
			form := url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}.Encode()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for b.Loop() {
				resp, err := client.Post(h.srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil {
					b.Fatal(err)
				}
				if err := resp.Body.Close(); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode != http.StatusSeeOther {
					b.Fatalf("login answered %d", resp.StatusCode)
				}
			}
		})
	}
}

func newBenchHarness(b *testing.B, params password.Params) *harness {
	b.Helper()
	h := newHarness(b, func(o *options) { o.params = params })
	if _, err := h.accounts.SignUp(b.Context(), "ann@example.com", "", goodPassword, account.Meta{IP: netip.MustParseAddr("192.0.2.1")}); err != nil {
		b.Fatal(err)
	}
	h.clock.Advance(time.Second)
	return h
}

// BenchmarkPasswordToSMS measures, under the "always" policy, the time from
// submitting the password to the SMS being handed to Plivo (the real plivo-go
// SDK, a fake Plivo on loopback): login with argon2id at OWASP parameters,
// the redirect to the challenge, the challenge and its outbox row, and one
// dispatcher round. It reports the median and the 99th percentile.
func BenchmarkPasswordToSMS(b *testing.B) {
	rules := mfa.DefaultRules()
	rules.PhoneLimits, rules.IPLimits, rules.UserLimits, rules.GlobalLimits = nil, nil, nil, nil
	h := newHarness(b, func(o *options) { o.plivo, o.params, o.mfaRules = true, password.OWASP(), rules })
	ctx := b.Context()
	u, err := h.accounts.SignUp(ctx, "ann@example.com", "", goodPassword, account.Meta{IP: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		b.Fatal(err)
	}
	phone, err := mfa.ParsePhone(mobile, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.mfaSvc.EnrollByOperator(ctx, u.ID, phone); err != nil {
		b.Fatal(err)
	}
	h.setPolicy(b, mfa.PolicyAlways)
	var took []time.Duration
	for b.Loop() {
		br := h.browser()
		start := time.Now()
		h.logIn(br, "ann@example.com", goodPassword)
		h.do(br, "GET", "/mfa/challenge", nil)
		if _, err := h.dispatcher.RunOnce(ctx); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	if n := len(h.plivo.Messages()); n != len(took) {
		b.Fatalf("Plivo got %d messages for %d logins", n, len(took))
	}
}

// BenchmarkWellKnown measures the discovery document and the JWKS through the
// whole middleware chain, in process: what each request costs the server
// apart from the network. Both are built once (the JWKS again only when the
// keys change), so neither should touch the database.
func BenchmarkWellKnown(b *testing.B) {
	h := newHarness(b)
	handler := h.srv.Config.Handler
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		b.Run(strings.TrimPrefix(path, "/.well-known/"), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
					if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
						b.Fatalf("%s answered %d", path, rec.Code)
					}
				}
			})
		})
	}
}

// BenchmarkRefresh measures one refresh grant over HTTP: the token rotation
// in Postgres and the new access and ID tokens, two RS256 signatures.
func BenchmarkRefresh(b *testing.B) {
	h := newBenchHarness(b, accounttest.CheapParams)
	ctx := b.Context()
	err := h.st.CreateClient(ctx, clients.Client{ID: spaID, Name: "Sample SPA", Type: clients.SPA,
		Callbacks: []string{spaCallback}, WebOrigins: []string{spaOrigin}})
	if err != nil {
		b.Fatal(err)
	}
	br := h.browser()
	h.logIn(br, "ann@example.com", goodPassword)
	f := newFlow()
	sum := sha256.Sum256([]byte(f.verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {spaID}, "redirect_uri": {spaCallback},
		"scope": {"openid profile email offline_access"}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	loc, err := url.Parse(h.do(br, "GET", "/authorize?"+q.Encode(), nil).header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		b.Fatalf("authorize did not answer with a code: %v", loc)
	}
	tok := benchToken(b, h, url.Values{"grant_type": {"authorization_code"}, "client_id": {spaID},
		"code": {loc.Query().Get("code")}, "code_verifier": {f.verifier}, "redirect_uri": {spaCallback}})
	client := &http.Client{}
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		tok = benchToken(b, h, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {tok}}, client)
		took = append(took, time.Since(start))
	}
	// Every rotation keeps the rotated token, so the chain grows by one row
	// per iteration: the first and last tenth show whether that costs.
	if n := len(took) / 10; n > 0 {
		mean := func(ds []time.Duration) float64 {
			var sum time.Duration
			for _, d := range ds {
				sum += d
			}
			return float64(sum.Microseconds()) / 1000 / float64(len(ds))
		}
		b.ReportMetric(mean(took[:n]), "first-tenth-ms")
		b.ReportMetric(mean(took[len(took)-n:]), "last-tenth-ms")
	}
}

// benchToken posts form to the token endpoint and returns the refresh token.
func benchToken(b *testing.B, h *harness, form url.Values, client ...*http.Client) string {
	c := http.DefaultClient
	if len(client) > 0 {
		c = client[0]
	}
	r := h.do(c, "POST", "/oauth/token", form)
	var body struct {
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != http.StatusOK || body.RefreshToken == "" || body.IDToken == "" {
		b.Fatalf("token endpoint answered %d %q", r.status, r.body)
	}
	return body.RefreshToken
}
