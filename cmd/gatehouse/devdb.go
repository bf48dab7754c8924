package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/pgcluster"
)

// devVarDir is where dev keeps its state by default, relative to the
// directory it runs in: the checkout, for ./scripts/dev.sh.
const devVarDir = "var"

// devClusterDirs are where dev keeps its cluster for varDir: varDir/postgres,
// or, when it runs as root and the postgres user cannot enter that (a
// checkout under /root, say), a directory under /var/tmp named after it.
func devClusterDirs(varDir string) (wanted, fallback string, err error) {
	wanted, err = filepath.Abs(filepath.Join(varDir, "postgres"))
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256([]byte(wanted))
	return wanted, filepath.Join("/var/tmp", "gatehouse-dev-"+hex.EncodeToString(sum[:6])), nil
}

// findDevCluster returns the data directory of the cluster dev made for
// varDir, if it made one.
func findDevCluster(varDir string) (string, bool) {
	wanted, fallback, err := devClusterDirs(varDir)
	if err != nil {
		return "", false
	}
	for _, dir := range []string{wanted, fallback} {
		if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
			return dir, true
		}
	}
	return "", false
}

// devTarget lets the command-line actions, run in a directory where dev has
// run, use dev's database and key while DATABASE_URL and GATEHOUSE_SECRET_KEY
// are both unset. It stands in for neither when either is set, so the dev
// key never meets another database.
type devTarget struct {
	varDir  string
	getenv  func(string) string
	stderr  io.Writer
	cluster *pgcluster.Cluster
}

// applies reports whether the dev database stands in for the environment,
// given the --database-url flag's value.
func (d *devTarget) applies(databaseFlag string) bool {
	return d != nil && databaseFlag == "" && d.getenv("DATABASE_URL") == "" && d.getenv("GATEHOUSE_SECRET_KEY") == ""
}

// cliSecretKey is GATEHOUSE_SECRET_KEY, or dev's key where dev's database
// stands in for an unset DATABASE_URL.
func (e env) cliSecretKey(databaseFlag string) string {
	if v := e.getenv("GATEHOUSE_SECRET_KEY"); v != "" || !e.dev.applies(databaseFlag) {
		return v
	}
	if _, ok := findDevCluster(e.dev.varDir); !ok {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(e.dev.varDir, "secret.key"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// databaseURL returns the dev database's URL, or "" when dev has made no
// cluster here. A cluster dev is not running is started, and stopped again by
// close, so the command leaves things as it found them.
func (d *devTarget) databaseURL(ctx context.Context) (string, error) {
	if d.cluster != nil {
		return d.cluster.URL(devDatabase), nil
	}
	dir, ok := findDevCluster(d.varDir)
	if !ok {
		return "", nil
	}
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		return "", fmt.Errorf("the dev database in %s does not start (run gatehouse dev, or set DATABASE_URL): %w", dir, err)
	}
	d.cluster = c
	how := "gatehouse dev's, running"
	if !c.Adopted() {
		how = "started for this command, stopped after it"
	}
	fmt.Fprintf(d.stderr, "gatehouse: DATABASE_URL is not set: using the dev database in %s (%s)\n", dir, how)
	return c.URL(devDatabase), nil
}

// close stops the cluster if databaseURL started it.
func (d *devTarget) close() {
	if d == nil || d.cluster == nil || d.cluster.Adopted() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.cluster.Stop(ctx); err != nil {
		fmt.Fprintf(d.stderr, "gatehouse: stopping the dev database: %v\n", err)
	}
}
