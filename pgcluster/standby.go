package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// StartStandby makes a streaming standby of primary in opts.Dir, which must
// be empty or missing, and starts it: pg_basebackup -R copies the primary
// (superuser file included) through a replication slot of its own, so the
// primary keeps the WAL the standby has not received yet. The primary must
// have been started with Options.Replication. The standby is started with
// Replication as well, since it is meant to be promoted.
func StartStandby(ctx context.Context, primary *Cluster, opts Options) (*Cluster, error) {
	if !primary.replication {
		return nil, errors.New("pgcluster: the primary was not started with Options.Replication")
	}
	opts.Replication = true
	c, err := newCluster(opts)
	if err != nil {
		return nil, err
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(c.dir); err != nil {
		return nil, fmt.Errorf("pgcluster: read data dir: %w", err)
	} else if len(entries) > 0 {
		return nil, fmt.Errorf("pgcluster: a standby needs an empty data dir; %s is not", c.dir)
	}
	if c.runAs != nil {
		if err := c.runAs.chown(c.dir); err != nil {
			return nil, err
		}
	}
	if err := c.choosePort(opts.Port); err != nil {
		return nil, err
	}
	if err := c.baseBackup(ctx, primary); err != nil {
		return nil, err
	}
	if err := c.loadSuperuser(""); err != nil {
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// baseBackup copies primary into c.dir and leaves standby.signal and the
// connection settings (-R) there, so that c starts as its standby.
func (c *Cluster) baseBackup(ctx context.Context, primary *Cluster) error {
	args := []string{
		"-D", c.dir, "-R", "-X", "stream",
		"-C", "-S", "standby_" + strconv.Itoa(c.port),
		// A fast checkpoint: the default spreads it over minutes.
		"-c", "fast",
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", primary.superuser,
	}
	if c.ephemeral {
		args = append(args, "--no-sync")
	}
	cmd := c.command(ctx, "pg_basebackup", args...)
	// The password also lands in primary_conninfo, which -R writes into the
	// copy's postgresql.auto.conf: the standby needs it to connect.
	cmd.Env = append(os.Environ(), "PGPASSWORD="+primary.password)
	c.log.Info("copying the primary for a standby", "primary_port", primary.port)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: pg_basebackup from port %d: %w: %s", primary.port, err, out)
	}
	return nil
}

// Promote turns a standby into a primary that accepts writes, and returns
// once it does.
func (c *Cluster) Promote(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := os.Stat(filepath.Join(c.dir, "standby.signal")); err != nil {
		return fmt.Errorf("pgcluster: %s is not a standby: %w", c.dir, err)
	}
	if err := c.run(ctx, "pg_ctl", "promote", "-w", "-t", seconds(pgctlTimeout), "-D", c.dir); err != nil {
		return fmt.Errorf("pgcluster: promote: %w", err)
	}
	c.log.Info("postgres promoted", "port", c.port)
	return nil
}

// Kill stops the server the way a crash does: no shutdown checkpoint, clients
// cut off mid-transaction, and WAL a standby has not received yet stays
// behind. Killing a stopped cluster is not an error.
func (c *Cluster) Kill(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.postmaster(); !ok {
		return nil
	}
	if err := c.run(ctx, "pg_ctl", "stop", "-m", "immediate", "-w", "-t", seconds(pgctlTimeout), "-D", c.dir); err != nil {
		if _, ok := c.postmaster(); ok {
			return fmt.Errorf("pgcluster: kill postgres: %w", err)
		}
	}
	c.log.Info("postgres killed", "port", c.port)
	return nil
}
