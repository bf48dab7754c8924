package pgcluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/pgcluster"
)

func TestBouncerSharesServerConnectionsBetweenTransactions(t *testing.T) {
	c := startCluster(t, dataDir(t))
	b, err := pgcluster.StartBouncer(t.Context(), c, pgcluster.BouncerOptions{Dir: filepath.Join(filepath.Dir(c.Dir()), "bouncer"), PoolSize: 1})
	if errors.Is(err, pgcluster.ErrNoBouncer) && os.Getenv("GATEHOUSE_E2E") != "required" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("StartBouncer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	// Two clients, one server connection: each transaction of either runs
	// on the same backend, which only transaction pooling allows.
	var pids [2]int
	for i := range pids {
		conn, err := pgx.Connect(t.Context(), b.URL("postgres")+"&default_query_exec_mode=exec")
		if err != nil {
			t.Fatalf("connect through pgbouncer: %v", err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(t.Context(), "select pg_backend_pid()").Scan(&pids[i]); err != nil {
			t.Fatalf("query through pgbouncer: %v", err)
		}
	}
	if pids[0] != pids[1] {
		t.Errorf("two clients ran on backends %d and %d, want the pool's one", pids[0], pids[1])
	}
	if err := b.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := pgx.Connect(t.Context(), b.URL("postgres")); err == nil {
		t.Error("pgbouncer still accepts connections after Stop")
	}
}
