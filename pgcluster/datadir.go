package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// superuserFile, inside the data dir, holds the superuser's name and password
// (one per line) so that a later Start can reconnect to the cluster.
const superuserFile = "gatehouse-superuser"

// prepareDir makes sure the account the server runs as can reach the data
// dir, then creates it.
func (c *Cluster) prepareDir() error {
	if c.runAs != nil {
		if err := c.runAs.checkReachable(c.dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o755); err != nil {
		return fmt.Errorf("pgcluster: create parent of data dir: %w", err)
	}
	if err := os.Mkdir(c.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgcluster: create data dir: %w", err)
	}
	return nil
}

// ensureInitialized runs initdb unless c.dir already holds a cluster.
func (c *Cluster) ensureInitialized(ctx context.Context, superuser string) error {
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); err == nil {
		return nil
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("pgcluster: read data dir: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("pgcluster: %s is neither empty nor a PostgreSQL data directory (no PG_VERSION); "+
			"if an earlier initdb was interrupted, remove it", c.dir)
	}
	if superuser == "" {
		superuser = defaultSuperuser
	}
	return c.initdb(ctx, superuser)
}

func (c *Cluster) initdb(ctx context.Context, superuser string) error {
	if c.runAs != nil {
		if err := c.runAs.chown(c.dir); err != nil {
			return err
		}
	}
	password, err := randomPassword()
	if err != nil {
		return err
	}
	pwfile, err := c.writeTempPassword(password)
	if err != nil {
		return err
	}
	defer os.Remove(pwfile)

	args := []string{
		"-D", c.dir, "-U", superuser, "--pwfile", pwfile, "--auth", "scram-sha-256",
		// C locale: the same collation on every machine, whatever the host's
		// locale settings are.
		"--encoding", "UTF8", "--locale", "C",
	}
	if c.ephemeral {
		args = append(args, "--no-sync")
	}
	c.log.Info("initializing postgres cluster", "superuser", superuser)
	if err := c.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return c.saveSuperuser(superuser, password)
}

func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pgcluster: generate password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// writeTempPassword writes initdb's --pwfile. It cannot live in the data dir,
// which initdb wants empty, so it goes next to it: prepareDir has checked that
// the server's account can reach that directory.
func (c *Cluster) writeTempPassword(password string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(c.dir), ".pgcluster-pwfile-*")
	if err != nil {
		return "", fmt.Errorf("pgcluster: password file: %w", err)
	}
	_, werr := f.WriteString(password + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("pgcluster: password file: %w", err)
	}
	if c.runAs != nil {
		if err := c.runAs.chown(f.Name()); err != nil {
			os.Remove(f.Name())
			return "", err
		}
	}
	return f.Name(), nil
}

func (c *Cluster) saveSuperuser(name, password string) error {
	path := filepath.Join(c.dir, superuserFile)
	if err := os.WriteFile(path, []byte(name+"\n"+password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgcluster: save superuser: %w", err)
	}
	if c.runAs != nil {
		return c.runAs.chown(path)
	}
	return nil
}

// loadSuperuser reads the credentials saved at initdb time. A reused cluster
// keeps the superuser it was created with, whatever Options.Superuser says now.
func (c *Cluster) loadSuperuser(wanted string) error {
	b, err := os.ReadFile(filepath.Join(c.dir, superuserFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: %s holds a cluster without a %s file: it was not created by pgcluster, "+
			"or its initialization was interrupted; remove the directory to start afresh", c.dir, superuserFile)
	}
	if err != nil {
		return fmt.Errorf("pgcluster: load superuser: %w", err)
	}
	name, password, ok := strings.Cut(strings.TrimSuffix(string(b), "\n"), "\n")
	if !ok || name == "" || password == "" {
		return fmt.Errorf("pgcluster: %s: want superuser name and password on two lines", filepath.Join(c.dir, superuserFile))
	}
	c.superuser, c.password = name, password
	if wanted != "" && wanted != c.superuser {
		c.log.Warn("cluster keeps the superuser it was created with", "superuser", c.superuser, "requested", wanted)
	}
	return nil
}
