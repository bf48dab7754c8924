package server_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// BenchmarkLogin measures a whole password login over HTTP at the production
// argon2id parameters: form parsing, limits check, user lookup, verification,
// counter reset, audit, session insert and the redirect.
func BenchmarkLogin(b *testing.B) {
	st := storetest.NewStore(b)
	accounts := account.NewService(account.Deps{
		Users: st, Sessions: st, Failures: st, Audit: st,
		Hasher: password.NewHasher(password.OWASP(), 0),
		Policy: password.NewPolicy(),
		Limits: account.DefaultLimits(),
	})
	if _, err := accounts.SignUp(b.Context(), "ann@example.com", "", goodPassword, account.Meta{}); err != nil {
		b.Fatal(err)
	}
	h := &harness{st: st, accounts: accounts}
	srvURL := startBenchServer(b, h)
	form := url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}.Encode()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(srvURL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("login answered %d", resp.StatusCode)
		}
	}
}

func startBenchServer(b *testing.B, h *harness) string {
	b.Helper()
	srv := newUnstarted()
	issuer := &url.URL{Scheme: "http", Host: srv.Listener.Addr().String(), Path: "/"}
	s, err := server.New(server.Config{Issuer: issuer}, h.accounts, h.st, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	b.Cleanup(srv.Close)
	return srv.URL
}
