package pgcluster_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/pgcluster"
)

func TestStartServesQueries(t *testing.T) {
	c := startCluster(t, dataDir(t))

	var one int
	if err := connect(t, c).QueryRow(t.Context(), "select 1").Scan(&one); err != nil {
		t.Fatalf("select 1: %v", err)
	}
	if one != 1 {
		t.Errorf("select 1 = %d", one)
	}
}

func TestStartKeepsPasswordPrivate(t *testing.T) {
	c := startCluster(t, dataDir(t))

	fi, err := os.Stat(filepath.Join(c.Dir(), "gatehouse-superuser"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("superuser file mode = %v, want 0600", perm)
	}
}

func TestRestartKeepsDataAndPort(t *testing.T) {
	c := startCluster(t, dataDir(t))
	execSQL(t, c, "create table kept (id int); insert into kept values (42)")
	port := c.Port()

	if err := c.Restart(t.Context()); err != nil {
		t.Fatalf("Restart: %v", err)
	}

	if c.Port() != port {
		t.Errorf("port after restart = %d, want %d", c.Port(), port)
	}
	var id int
	if err := connect(t, c).QueryRow(t.Context(), "select id from kept").Scan(&id); err != nil {
		t.Fatalf("read table after restart: %v", err)
	}
	if id != 42 {
		t.Errorf("id after restart = %d, want 42", id)
	}
}

func TestStartReusesRunningCluster(t *testing.T) {
	dir := dataDir(t)
	first := startCluster(t, dir)

	second, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}

	if second.Port() != first.Port() {
		t.Errorf("reused cluster port = %d, want %d", second.Port(), first.Port())
	}
	execSQL(t, second, "select 1")
	if err := second.Stop(t.Context()); err != nil {
		t.Fatalf("Stop through reused cluster: %v", err)
	}
	if portAnswers(first.Port()) {
		t.Errorf("port %d still answers after Stop through the reused cluster", first.Port())
	}
}

func TestStopIsIdempotent(t *testing.T) {
	c := startCluster(t, dataDir(t))

	for i := range 2 {
		if err := c.Stop(t.Context()); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	if portAnswers(c.Port()) {
		t.Errorf("port %d still answers after Stop", c.Port())
	}
}

func TestStartIgnoresStalePidFile(t *testing.T) {
	dir := dataDir(t)
	c := startCluster(t, dir)
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A crash leaves postmaster.pid behind, and by the next start its pid may
	// belong to another live process of the same user, which PostgreSQL
	// itself takes for a running server.
	stale := fmt.Sprintf("%d\n%s\n1700000000\n%d\n\n127.0.0.1\n  5432001     32768\nready   \n", otherProcess(t, dir), dir, c.Port())
	if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}

	execSQL(t, startCluster(t, dir), "select 1")
}

func TestStartRejectsUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	closed := filepath.Join(filepath.Dir(dataDir(t)), "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}

	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: filepath.Join(closed, "pgdata"), Ephemeral: true})

	if !errors.Is(err, pgcluster.ErrDirNotReachable) {
		t.Fatalf("Start error = %v, want ErrDirNotReachable", err)
	}
	if !strings.Contains(err.Error(), closed) {
		t.Errorf("error %q does not name %s", err, closed)
	}
}

func TestBinDirFindsServerBinaries(t *testing.T) {
	dir, err := pgcluster.BinDir()
	if err != nil {
		t.Fatalf("BinDir: %v", err)
	}
	for _, name := range []string{"pg_ctl", "initdb"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("BinDir() = %s without %s: %v", dir, name, err)
		}
	}
}

// dataDir returns a data dir path in a fresh temp dir. t.TempDir's parent is
// closed to other users, and as root the server runs as another user.
func dataDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(tmp, "pgdata")
}

// otherProcess starts a process that is not PostgreSQL, as the owner of dir,
// and returns its pid.
func otherProcess(t *testing.T, dir string) int {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	cmd := exec.Command("sleep", "60")
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: st.Uid, Gid: st.Gid}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var killed *exec.ExitError // the end Kill brings
		if err := cmd.Wait(); !errors.As(err, &killed) {
			t.Errorf("wait for the killed process: %v", err)
		}
	})
	return cmd.Process.Pid
}

// startCluster starts an ephemeral cluster on dir that is stopped when the
// test ends, pass or fail.
func startCluster(t *testing.T, dir string) *pgcluster.Cluster {
	t.Helper()
	c, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, c *pgcluster.Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		if err := conn.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return conn
}

func execSQL(t *testing.T, c *pgcluster.Cluster, sql string) {
	t.Helper()
	if _, err := connect(t, c).Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func portAnswers(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	return conn.Close() == nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func TestStandbyFollowsThePrimaryAndTakesOverWhenPromoted(t *testing.T) {
	ctx := t.Context()
	primary, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dataDir(t), Ephemeral: true, Replication: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { stopCluster(t, primary) })
	execSQL(t, primary, "create table kept (id int); insert into kept values (1)")

	standby, err := pgcluster.StartStandby(ctx, primary, pgcluster.Options{Dir: dataDir(t), Ephemeral: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("StartStandby: %v", err)
	}
	t.Cleanup(func() { stopCluster(t, standby) })
	if standby.Port() == primary.Port() {
		t.Fatalf("the standby listens on the primary's port %d", primary.Port())
	}
	execSQL(t, primary, "insert into kept values (2)")
	waitRows(t, standby, 2)
	if _, err := connect(t, standby).Exec(ctx, "insert into kept values (3)"); err == nil {
		t.Fatal("the standby accepted a write before its promotion")
	}

	if err := primary.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if portAnswers(primary.Port()) {
		t.Fatalf("port %d still answers after Kill", primary.Port())
	}
	if err := standby.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}

	execSQL(t, standby, "insert into kept values (3)")
	waitRows(t, standby, 3)
}

// waitRows waits up to 30 seconds for table kept on c to hold n rows.
func waitRows(t *testing.T, c *pgcluster.Cluster, n int) {
	t.Helper()
	conn := connect(t, c)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got int
		if err := conn.QueryRow(t.Context(), "select count(*) from kept").Scan(&got); err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows on port %d after 30s, want %d", got, c.Port(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stopCluster(t *testing.T, c *pgcluster.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
