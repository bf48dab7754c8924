package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// TestServingThroughPgBouncerInTransactionPooling runs the deployment
// docs/scaling.md describes for a transaction-pooling PgBouncer: `gatehouse
// migrate` straight against Postgres, then `serve --no-migrate` with a
// DATABASE_URL through PgBouncer in pgx's exec mode, the pooler sharing two
// server connections among all of serve's. Under concurrent logins with the
// SMS challenge and refresh-token rotations, no answer is an error or a
// refusal; every SMS reaches the fake Plivo once; no refresh token is accepted
// twice and the reuse of a rotated one still revokes its family; and the
// janitor's pass runs and gives its lease back.
func TestServingThroughPgBouncerInTransactionPooling(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Postgres and PgBouncer and runs logins through them")
	}
	began := time.Now()
	cluster := storetest.NewEmptyCluster(t)
	_, pooledURL := storetest.NewBouncer(t, cluster, 2)
	directURL := cluster.URL("postgres")

	const loginWorkers, refreshWorkers = 3, 2
	cli := cliAgainst(t, directURL)
	cli("", "migrate")
	clientID, redirectURI, users := seedLoginLoad(t, cli, "Pooled", loginWorkers+refreshWorkers)
	direct, err := pgx.Connect(context.Background(), directURL)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(context.Background())
	// A brute-force counter long past any window: the janitor's first pass,
	// at serve's start, removes it.
	if _, err := direct.Exec(context.Background(), `insert into ip_login_failures (ip, hour, failures, last_failure_at)
		values ('192.0.2.1', now() - interval '30 days', 1, now() - interval '30 days')`); err != nil {
		t.Fatal(err)
	}

	base, plivo := serveWithPlivo(t, pooledURL)
	t.Logf("migrated, seeded and serving through PgBouncer %v after the start", time.Since(began).Round(time.Millisecond))

	run := &failoverRun{base: base, client: clientID, redirectURI: redirectURI, sms: plivo, accepted: map[string]int{}}
	families, stopWork := run.startLoad(t, users, loginWorkers, refreshWorkers)
	defer stopWork()
	run.waitFor(t, "concurrent logins and refreshes", 3*time.Minute, func(s failoverStats) bool {
		return s.logins >= 3*loginWorkers && s.refreshes >= 20*refreshWorkers
	})
	stopWork()

	s := run.stats()
	t.Logf("%d logins and %d refreshes through PgBouncer in %v", s.logins, s.refreshes, time.Since(began).Round(time.Millisecond))
	for _, d := range s.defects {
		t.Errorf("through PgBouncer: %s", d)
	}
	if s.unavailable > 0 {
		t.Errorf("%d answers were 503 with the database up", s.unavailable)
	}
	t.Run("every refresh token is accepted at most once", func(t *testing.T) { checkEachTokenAcceptedOnce(t, s) })
	t.Run("the reuse of a rotated refresh token revokes its family", func(t *testing.T) {
		for i, f := range families {
			if f.revoked {
				t.Errorf("family %d was revoked during the run, though each of its tokens was presented once", i)
				continue
			}
			last := f.rotatedBefore(time.Now())
			if last.token == "" {
				t.Fatalf("family %d was never rotated", i)
			}
			r, err := run.refresh(context.Background(), f.current)
			if err != nil || r.status != http.StatusOK {
				t.Fatalf("family %d: its current token is refused: %v %d %s", i, err, r.status, r.body)
			}
			run.checkReuseRevokes(t, fmt.Sprintf("family %d", i), rotation{token: f.current, at: time.Now()}, refreshTokenOf(t, r.body))
		}
	})
	t.Run("every queued SMS reaches Plivo exactly once", func(t *testing.T) {
		checkEverySMSOnce(t, directURL, plivo)
	})
	t.Run("every login is in the audit log, with its details", func(t *testing.T) {
		// Audit entries carry a JSON map, which pgx in exec mode can only
		// send once told its Postgres type; one a login could not write
		// failed that login.
		var entries int
		if err := direct.QueryRow(context.Background(), `select count(*) from audit_log
			where event = 'login.succeeded' and details ? 'amr'`).Scan(&entries); err != nil {
			t.Fatal(err)
		}
		if want := s.logins + len(families); entries < want {
			t.Errorf("%d login.succeeded entries with their details for %d logins", entries, want)
		}
	})
	t.Run("the janitor's pass ran and gave its lease back", func(t *testing.T) {
		deadline := time.Now().Add(time.Minute)
		for {
			var counters, leases int
			err := direct.QueryRow(context.Background(), `select (select count(*) from ip_login_failures where ip = '192.0.2.1'),
				(select count(*) from janitor_lease)`).Scan(&counters, &leases)
			if err != nil {
				t.Fatal(err)
			}
			if counters == 0 && leases == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("a minute after serve's start, %d expired counters and %d janitor leases are left", counters, leases)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
