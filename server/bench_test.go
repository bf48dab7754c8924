package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
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
