package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
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
				resp.Body.Close()
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
	if _, err := h.accounts.SignUp(b.Context(), "ann@example.com", "", goodPassword, account.Meta{}); err != nil {
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
	u, err := h.accounts.SignUp(ctx, "ann@example.com", "", goodPassword, account.Meta{})
	if err != nil {
		b.Fatal(err)
	}
	phone, _ := mfa.ParsePhone(mobile, "", nil)
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
