// Package pgcluster runs a private PostgreSQL server from the machine's own
// binaries. `gatehouse dev` keeps one under ./var/postgres (or /var/tmp) across runs; tests
// start a throwaway one in a temp dir.
//
// The server listens on 127.0.0.1 only and has no unix socket, so it never
// collides with a system PostgreSQL. Its superuser password is generated at
// initdb time and kept in the data directory (see superuserFile): that file is
// what lets a later Start reconnect to a cluster it did not create itself in
// this process. StartBouncer puts a PgBouncer in front of a cluster, for tests
// of Gatehouse behind a connection pooler.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
)

const defaultSuperuser = "gatehouse"

// ErrDirNotReachable means the user the server runs as cannot traverse one of
// the parent directories of the data directory.
var ErrDirNotReachable = errors.New("pgcluster: data directory not reachable by the server's user")

// Options configures Start.
type Options struct {
	Dir       string // data directory; initialized when missing or empty, reused when it already holds a cluster
	Port      int    // 0 = pick a free 127.0.0.1 port
	Superuser string // role initdb creates; default "gatehouse"
	Ephemeral bool   // throwaway tuning: fsync=off, synchronous_commit=off, full_page_writes=off
	// Replication makes the server able to feed streaming standbys
	// (StartStandby) and to become a primary when promoted. It keeps
	// synchronous_commit on even when Ephemeral, so that a synchronous
	// standby holds every commit a client saw succeed.
	Replication bool
	Logger      *slog.Logger // nil = discard
}

// Cluster is a PostgreSQL server whose data directory this package manages.
type Cluster struct {
	bin         string
	dir         string
	port        int
	ephemeral   bool
	replication bool
	adopted     bool     // Start found the server running rather than starting it
	runAs       *account // nil: run the binaries as ourselves
	log         *slog.Logger

	superuser string
	password  string

	// mu serializes Stop and Restart: callers stop from signal handlers and
	// test cleanups that may overlap with a restart.
	mu sync.Mutex
}

// Start initializes opts.Dir if needed and starts a server on it. When a
// server is already running on opts.Dir, Start returns a Cluster for it
// instead, on the port that server listens on.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(opts)
	if err != nil {
		return nil, err
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if err := c.ensureInitialized(ctx, opts.Superuser); err != nil {
		return nil, err
	}
	if err := c.loadSuperuser(opts.Superuser); err != nil {
		return nil, err
	}
	reused, err := c.reuseRunning(opts.Port)
	if err != nil {
		return nil, err
	}
	if reused {
		return c, nil
	}
	if err := c.choosePort(opts.Port); err != nil {
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func newCluster(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: data dir: %w", err)
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := chooseAccount(dir)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cluster{
		bin:         bin,
		dir:         dir,
		ephemeral:   opts.Ephemeral,
		replication: opts.Replication,
		runAs:       runAs,
		log:         log.With("pgdata", dir),
	}, nil
}

// reuseRunning adopts a server that already runs on c.dir, so that `gatehouse
// dev` can be restarted while its database stays up.
func (c *Cluster) reuseRunning(wantPort int) (bool, error) {
	pf, ok := c.postmaster()
	if !ok {
		return false, nil
	}
	if !portAnswers(pf.port) {
		return false, fmt.Errorf("pgcluster: postgres (pid %d) runs on %s but does not accept connections on 127.0.0.1:%d", pf.pid, c.dir, pf.port)
	}
	if wantPort != 0 && wantPort != pf.port {
		c.log.Warn("running cluster listens on another port than requested", "port", pf.port, "requested", wantPort)
	}
	c.port, c.adopted = pf.port, true
	c.log.Info("reusing running postgres", "pid", pf.pid, "port", c.port)
	return true, nil
}

func (c *Cluster) choosePort(port int) error {
	if port != 0 {
		c.port = port
		return nil
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	return nil
}

// URL returns a connection URL for database as the superuser.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Adopted reports whether Start found the server already running, so that
// a caller who only borrows it knows not to stop it.
func (c *Cluster) Adopted() bool { return c.adopted }

// Dir returns the absolute data directory.
func (c *Cluster) Dir() string { return c.dir }

// Stop shuts the server down, disconnecting clients. Stopping a stopped
// cluster is not an error.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stop(ctx)
}

// Restart stops the server and starts it again on the same port and data.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stop(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := c.start(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}
