// Package storetest gives tests a real, migrated Postgres database of their
// own. A package's TestMain calls Main; each test then calls NewDatabase (or
// NewStore) and gets a fresh database cloned from a migrated template, dropped
// when the test ends.
//
// The server is DATABASE_URL when set (the README's test command starts one
// throwaway cluster for the whole run); otherwise Main starts a throwaway
// cluster for the package in a temp dir and stops it afterwards, so plain
// `go test ./...` works too.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-id/gatehouse/pgcluster"
	"github.com/gatehouse-id/gatehouse/store"
)

// server is the one Postgres server of this test process, set up by Main.
var server struct {
	sync.Mutex
	adminURL string // a database on the server we may create databases from
	template string // migrated database that NewDatabase clones
}

// Main runs the package's tests against a Postgres server and returns the exit
// code: use it as `func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }`.
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	teardown, err := setUp(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "storetest: %v\n", err)
		return 1
	}
	code := m.Run()
	teardown()
	return code
}

func setUp(ctx context.Context) (teardown func(), err error) {
	var stops []func()
	teardown = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			teardown()
		}
	}()

	server.adminURL = os.Getenv("DATABASE_URL")
	if server.adminURL == "" {
		dir, err := os.MkdirTemp("", "gatehouse-test-pg-")
		if err != nil {
			return teardown, err
		}
		stops = append(stops, func() { os.RemoveAll(dir) })
		// When tests run as root the server runs as another user, which must be
		// able to pass through the temp dir (MkdirTemp makes it 0700).
		if err := os.Chmod(dir, 0o711); err != nil {
			return teardown, err
		}
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir + "/data", Ephemeral: true})
		if err != nil {
			return teardown, fmt.Errorf("start throwaway postgres: %w", err)
		}
		stops = append(stops, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c.Stop(ctx)
		})
		server.adminURL = c.URL("postgres")
	}

	server.template = "gatehouse_tpl_" + randomSuffix()
	if err := createDatabase(ctx, server.template, ""); err != nil {
		return teardown, err
	}
	stops = append(stops, func() { dropDatabase(context.Background(), server.template) })
	pool, err := pgxpool.New(ctx, databaseURL(server.template))
	if err != nil {
		return teardown, err
	}
	_, err = store.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return teardown, fmt.Errorf("migrate template database: %w", err)
	}
	return teardown, nil
}

// NewDatabase creates a fresh migrated database for t and returns its URL.
// With GATEHOUSE_TEST_EXEC_MODE=1 the URL asks pgx for
// default_query_exec_mode=exec, as a transaction-pooling PgBouncer needs
// (docs/scaling.md): pgx then neither prepares nor describes a statement and
// must know every argument's Postgres type itself, which the test command
// checks by running the store's tests once more that way.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dsn := newDatabase(t, server.template)
	if os.Getenv("GATEHOUSE_TEST_EXEC_MODE") == "1" {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "default_query_exec_mode=exec"
	}
	return dsn
}

// NewEmptyDatabase creates a database without any schema, for tests of
// migrations themselves.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// NewStore opens a Store on a fresh migrated database; it closes with t.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), NewDatabase(t), store.PoolOptions{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// NewCluster starts a Postgres server of t's own, for tests that stop or
// restart it, and returns it with the URL of a migrated database on it. The
// server stops when t ends.
func NewCluster(t testing.TB) (*pgcluster.Cluster, string) {
	t.Helper()
	c := NewEmptyCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return c, c.URL("postgres")
}

// NewEmptyCluster is NewCluster without the migrations, for tests that run
// them their own way.
func NewEmptyCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "gatehouse-test-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir + "/data", Ephemeral: true})
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
	return c
}

func newDatabase(t testing.TB, template string) string {
	if server.adminURL == "" {
		t.Fatal("storetest: call storetest.Main from TestMain")
	}
	name := "gatehouse_test_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := createDatabase(ctx, name, template); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(context.Background(), name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return databaseURL(name)
}

// createDatabase serializes on the template: Postgres refuses to clone a
// database that another session is connected to, including another clone.
func createDatabase(ctx context.Context, name, template string) error {
	server.Lock()
	defer server.Unlock()
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		return fmt.Errorf("connect to test postgres: %w", err)
	}
	defer conn.Close(ctx)
	sql := "create database " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " template " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func dropDatabase(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "drop database if exists "+pgx.Identifier{name}.Sanitize()+" with (force)")
	return err
}

// databaseURL is adminURL pointed at another database.
func databaseURL(name string) string {
	u, err := url.Parse(server.adminURL)
	if err != nil || u.Scheme == "" {
		return server.adminURL + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewBouncer starts PgBouncer in transaction pooling mode in front of c, with
// poolSize server connections shared by all its clients, and returns it with
// the URL of c's "postgres" database through it, in pgx's exec mode: PgBouncer
// before 1.21 cannot keep named prepared statements apart. It stops when t
// ends. Without a pgbouncer binary the test is skipped, or fails under
// GATEHOUSE_E2E=required (scripts/test.sh), which installs it.
func NewBouncer(t testing.TB, c *pgcluster.Cluster, poolSize int) (*pgcluster.Bouncer, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "gatehouse-test-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// As root PgBouncer runs as the server's account, which must pass through.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	b, err := pgcluster.StartBouncer(ctx, c, pgcluster.BouncerOptions{Dir: dir + "/bouncer", PoolMode: "transaction", PoolSize: poolSize})
	if errors.Is(err, pgcluster.ErrNoBouncer) {
		if os.Getenv("GATEHOUSE_E2E") == "required" {
			t.Fatalf("GATEHOUSE_E2E=required, but %v", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			t.Errorf("stop pgbouncer: %v", err)
		}
	})
	return b, b.URL("postgres") + "&default_query_exec_mode=exec"
}
