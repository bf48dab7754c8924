package pgcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// pg_ctl waits this long for the server to start or stop; it is what
	// bounds a start when the caller's context has no deadline.
	pgctlTimeout = 60 * time.Second
	// serverLog, inside the data dir, collects the server's output.
	serverLog = "server.log"
	// logTailBytes is how much of the server log a failed start reports.
	logTailBytes = 4096
)

func (c *Cluster) start(ctx context.Context) error {
	if err := c.clearStalePidFile(); err != nil {
		return err
	}
	logPath := filepath.Join(c.dir, serverLog)
	logStart := fileSize(logPath)
	err := c.run(ctx, "pg_ctl", "start", "-w", "-t", seconds(pgctlTimeout),
		"-D", c.dir, "-l", logPath, "-o", c.serverOptions())
	if err != nil {
		c.abandonStart(ctx)
		return fmt.Errorf("pgcluster: start postgres on port %d: %w\nserver log %s:\n%s",
			c.port, err, logPath, logTail(logPath, logStart))
	}
	c.log.Info("postgres started", "port", c.port)
	return nil
}

// serverOptions are passed per start, not written to postgresql.conf, so that
// a kept data dir can move to another port and drop the throwaway tuning.
// pg_ctl hands them to a shell, hence the quoted empty string.
func (c *Cluster) serverOptions() string {
	settings := []string{
		"listen_addresses=127.0.0.1",
		"port=" + strconv.Itoa(c.port),
		"unix_socket_directories=''",
	}
	if c.ephemeral {
		settings = append(settings, "fsync=off", "full_page_writes=off")
		if !c.replication {
			settings = append(settings, "synchronous_commit=off")
		}
	}
	if c.replication {
		// initdb's pg_hba.conf already lets the superuser replicate from
		// 127.0.0.1 with its password.
		settings = append(settings, "wal_level=replica", "max_wal_senders=4", "max_replication_slots=4")
	}
	return "-c " + strings.Join(settings, " -c ")
}

// abandonStart takes down a server that pg_ctl gave up waiting for, which it
// leaves running, so that a failed Start leaks no process.
func (c *Cluster) abandonStart(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, ok := c.postmaster(); !ok {
		return
	}
	if err := c.run(ctx, "pg_ctl", "stop", "-m", "immediate", "-w", "-D", c.dir); err != nil {
		c.log.Warn("could not stop a server that failed to start", "err", err)
	}
}

func (c *Cluster) stop(ctx context.Context) error {
	if _, ok := c.postmaster(); !ok {
		return nil
	}
	// Fast mode disconnects clients instead of waiting for them to leave.
	err := c.run(ctx, "pg_ctl", "stop", "-m", "fast", "-w", "-t", seconds(pgctlTimeout), "-D", c.dir)
	if err != nil {
		if _, ok := c.postmaster(); ok {
			return fmt.Errorf("pgcluster: stop postgres: %w", err)
		}
	}
	c.log.Info("postgres stopped", "port", c.port)
	return nil
}

// command builds a command running one of the PostgreSQL binaries, as
// c.runAs when that is set.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	// The caller's working directory may be closed to the server's account.
	cmd.Dir = "/"
	// An interrupt lets initdb remove what it half made and pg_ctl take down
	// the server it is waiting for; a kill would leave both behind.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs.credential()}
	}
	return cmd
}

// run runs a binary and puts its output into the error when it fails.
func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

func seconds(d time.Duration) string {
	return strconv.Itoa(int(d / time.Second))
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns what the server logged since offset, at most the last
// logTailBytes of it: the log is kept across runs.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(unavailable: %v)", err)
	}
	defer f.Close()
	if _, err := f.Seek(max(offset, fileSize(path)-logTailBytes), io.SeekStart); err != nil {
		return fmt.Sprintf("(unavailable: %v)", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(unavailable: %v)", err)
	}
	return string(bytes.TrimSpace(b))
}
