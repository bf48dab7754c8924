package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBouncer means no pgbouncer binary was found on PATH or in /usr/sbin.
var ErrNoBouncer = errors.New("pgcluster: no pgbouncer binary on PATH or in /usr/sbin; install it with: apt-get install -y pgbouncer")

// bouncerStartTimeout bounds the wait for PgBouncer to accept connections
// when the caller's context has no deadline.
const bouncerStartTimeout = 30 * time.Second

// BouncerOptions configures StartBouncer.
type BouncerOptions struct {
	// Dir holds the configuration, log and pid file; it is created, and
	// left for the caller to remove.
	Dir string
	// PoolMode is PgBouncer's pool_mode: session, transaction or statement.
	// Empty is transaction.
	PoolMode string
	// PoolSize is default_pool_size: the server connections per database
	// and user that all clients share. 0 is 2.
	PoolSize int
}

// Bouncer is a PgBouncer in front of a Cluster, listening on a free
// 127.0.0.1 port and logging in to the cluster as its superuser.
type Bouncer struct {
	cluster *Cluster
	dir     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has ended
	waitErr error         // set before exited closes
}

// StartBouncer starts PgBouncer in front of c, as the account c's server runs
// as (PgBouncer refuses to run as root), and waits until it accepts
// connections.
func StartBouncer(ctx context.Context, c *Cluster, opts BouncerOptions) (*Bouncer, error) {
	bin, err := bouncerBinary()
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: BouncerOptions.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: bouncer dir: %w", err)
	}
	if opts.PoolMode == "" {
		opts.PoolMode = "transaction"
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 2
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b := &Bouncer{cluster: c, dir: dir, port: port, exited: make(chan struct{})}
	if err := b.writeConfig(opts); err != nil {
		return nil, err
	}
	b.cmd = exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	b.cmd.Dir = "/"
	if c.runAs != nil {
		b.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs.credential()}
	}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgcluster: start pgbouncer: %w", err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()
	if err := b.waitListening(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		b.Stop(stopCtx)
		return nil, fmt.Errorf("%w\npgbouncer log:\n%s", err, logTail(filepath.Join(dir, "pgbouncer.log"), 0))
	}
	c.log.Info("pgbouncer started", "port", port, "pool_mode", opts.PoolMode)
	return b, nil
}

func bouncerBinary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/pgbouncer"
	if fi, err := os.Stat(debian); err == nil && fi.Mode().Perm()&0o111 != 0 {
		return debian, nil
	}
	return "", ErrNoBouncer
}

// writeConfig writes pgbouncer.ini and its user list. PgBouncer logs in to
// the server with the password from the list (SCRAM, as the cluster asks) and
// asks clients for the same one.
func (b *Bouncer) writeConfig(opts BouncerOptions) error {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: bouncer dir: %w", err)
	}
	ini := strings.Join([]string{
		"[databases]",
		fmt.Sprintf("* = host=127.0.0.1 port=%d", b.cluster.port),
		"",
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(b.port),
		"unix_socket_dir =",
		"auth_type = scram-sha-256",
		"auth_file = " + filepath.Join(b.dir, "userlist.txt"),
		"pool_mode = " + opts.PoolMode,
		"default_pool_size = " + strconv.Itoa(opts.PoolSize),
		"max_client_conn = 500",
		"logfile = " + filepath.Join(b.dir, "pgbouncer.log"),
		"pidfile = " + filepath.Join(b.dir, "pgbouncer.pid"),
		"",
	}, "\n")
	users := fmt.Sprintf("%q %q\n", b.cluster.superuser, b.cluster.password)
	for name, content := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": users} {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(content), 0o600); err != nil {
			return fmt.Errorf("pgcluster: write %s: %w", name, err)
		}
	}
	if b.cluster.runAs != nil {
		for _, p := range []string{b.dir, filepath.Join(b.dir, "pgbouncer.ini"), filepath.Join(b.dir, "userlist.txt")} {
			if err := b.cluster.runAs.chown(p); err != nil {
				return err
			}
		}
		if err := b.cluster.runAs.checkReachable(b.dir); err != nil {
			return err
		}
	}
	return nil
}

// waitListening polls until PgBouncer accepts connections, it exits, or the
// wait runs out.
func (b *Bouncer) waitListening(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, bouncerStartTimeout)
		defer cancel()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if portAnswers(b.port) {
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("pgcluster: pgbouncer exited at start: %v", b.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: pgbouncer not accepting connections on port %d: %w", b.port, ctx.Err())
		case <-tick.C:
		}
	}
}

// URL returns a connection URL for database through PgBouncer as the
// cluster's superuser.
func (b *Bouncer) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(b.cluster.superuser, b.cluster.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port PgBouncer listens on at 127.0.0.1.
func (b *Bouncer) Port() int { return b.port }

// Stop ends PgBouncer at once, closing its connections (SIGTERM), and waits
// for it to exit; when ctx ends first, it is killed. Stopping a stopped
// Bouncer is not an error.
func (b *Bouncer) Stop(ctx context.Context) error {
	select {
	case <-b.exited:
		return nil
	default:
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgcluster: stop pgbouncer: %w", err)
	}
	select {
	case <-b.exited:
		return nil
	case <-ctx.Done():
		b.cmd.Process.Kill()
		<-b.exited
		return fmt.Errorf("pgcluster: pgbouncer did not stop in time, killed: %w", ctx.Err())
	}
}
