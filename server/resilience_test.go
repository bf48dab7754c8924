package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestLoginsRecoverAfterAPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts its own Postgres server")
	}
	cluster, dbURL := storetest.NewCluster(t)
	h := newHarness(t, func(o *options) { o.dbURL = dbURL })
	h.signUp(h.browser(), "ann@example.com").expectRedirect(t, "/account")
	b := h.browser()
	h.logIn(b, "ann@example.com", goodPassword).expectRedirect(t, "/account")
	spa := h.newSPA(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if r := h.do(h.browser(), "GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Postgres down: %d, want 503", r.status)
	}
	down := h.logIn(h.browser(), "ann@example.com", goodPassword)
	down.expect(t, http.StatusServiceUnavailable, "error")
	if down.header.Get("Retry-After") == "" {
		t.Error("the outage page has no Retry-After")
	}
	for _, internal := range []string{"dial", "connect", "pgx", "postgres", "5432", "SQLSTATE"} {
		if strings.Contains(strings.ToLower(down.body), strings.ToLower(internal)) {
			t.Errorf("the outage page leaks %q", internal)
		}
	}

	// An app is told to try again, not that it is unknown or that the server
	// is broken: fosite would make a failed client lookup invalid_client.
	status, body, header := h.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {"any"}})
	if status != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || header.Get("Retry-After") == "" {
		t.Errorf("token endpoint with Postgres down: %d %v (Retry-After %q), want 503 temporarily_unavailable with Retry-After",
			status, body, header.Get("Retry-After"))
	}
	if r := h.do(h.browser(), "GET", spa.authURL(newFlow()), nil); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("authorize with Postgres down: %d (Retry-After %q), want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}

	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// Readiness comes back within five seconds of Postgres, without a restart of Gatehouse.
	waitFor(t, 5*time.Second, func() bool { return h.do(h.browser(), "GET", "/readyz", nil).status == http.StatusOK })
	h.do(b, "GET", "/account", nil).expect(t, http.StatusOK, "account")
	h.logIn(h.browser(), "ann@example.com", goodPassword).expectRedirect(t, "/account")
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
