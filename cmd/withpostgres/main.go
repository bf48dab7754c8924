// Command withpostgres runs a command against a throwaway PostgreSQL server;
// scripts/test.sh runs the test suite through it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gatehouse-id/gatehouse/pgcluster"
)

const usage = `usage: go run ./cmd/withpostgres [-v] -- COMMAND [ARGS...]

Starts a throwaway PostgreSQL server in a fresh temporary directory, listening
on a free 127.0.0.1 port, and runs COMMAND with its standard input and output
and with DATABASE_URL set to

    postgres://gatehouse:PASSWORD@127.0.0.1:PORT/postgres?sslmode=disable

Nothing is created in the server beyond what initdb makes; the URL names the
default "postgres" database and a superuser. When COMMAND exits, the server is
stopped, the directory removed, and withpostgres exits with COMMAND's status.

A DATABASE_URL already set in the environment is ignored and replaced: the
point is a database that nothing else uses.

SIGINT and SIGTERM are passed on to COMMAND; cleanup follows once it exits.
The PostgreSQL binaries come from PATH or /usr/lib/postgresql/*/bin
(scripts/ensure-postgres.sh installs them).

Example:

    go run ./cmd/withpostgres -- go test -count=1 ./store/...

Flags:
`

// stopTimeout bounds the shutdown of the server once COMMAND is done.
const stopTimeout = time.Minute

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	flags := flag.NewFlagSet("withpostgres", flag.ContinueOnError)
	verbose := flags.Bool("v", false, "log the server's start and stop")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), usage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() == 0 {
		flags.Usage()
		return 2
	}
	code, err := withPostgres(flags.Args(), newLogger(*verbose))
	if err != nil {
		fmt.Fprintf(os.Stderr, "withpostgres: %v\n", err)
	}
	return code
}

func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// withPostgres runs command against a fresh cluster and returns the exit
// status withpostgres should exit with.
func withPostgres(command []string, log *slog.Logger) (code int, err error) {
	// Listen before anything starts: an interrupt at any moment must end in
	// cleanup, never in a leaked server or directory.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	tmp, err := makeTempDir()
	if err != nil {
		return 1, err
	}
	cluster, err := startCluster(filepath.Join(tmp, "pgdata"), log)
	if err != nil {
		return 1, errors.Join(err, removeDir(tmp))
	}
	defer func() {
		if cerr := cleanup(cluster, tmp); cerr != nil {
			err = errors.Join(err, cerr)
			if code == 0 {
				code = 1
			}
		}
	}()
	return runCommand(command, cluster.URL("postgres"), sigs)
}

// makeTempDir makes a directory the server's account can enter: as root the
// server runs as another user, and MkdirTemp creates it 0700.
func makeTempDir() (string, error) {
	tmp, err := os.MkdirTemp("", "withpostgres-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", errors.Join(fmt.Errorf("temp dir: %w", err), removeDir(tmp))
	}
	return tmp, nil
}

// startCluster gives up when interrupted; the signal also stays queued for
// the caller, so a command that starts just as the user gives up is
// interrupted at once.
func startCluster(dir string, log *slog.Logger) (*pgcluster.Cluster, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Ephemeral: true, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return cluster, nil
}

// cleanup stops the server and removes its directory. When the server will
// not stop, the directory is kept, so as not to pull the data out from under
// a live server, and the error names it.
func cleanup(cluster *pgcluster.Cluster, tmp string) error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := cluster.Stop(ctx); err != nil {
		return fmt.Errorf("stop postgres (data kept in %s): %w", tmp, err)
	}
	return removeDir(tmp)
}

func removeDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove temp dir: %w", err)
	}
	return nil
}

// runCommand runs command with DATABASE_URL set to url, passing on the
// signals that arrive on sigs, and returns its exit status.
func runCommand(command []string, url string, sigs <-chan os.Signal) (int, error) {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// exec keeps the last of duplicate variables, so this replaces any
	// DATABASE_URL we inherited.
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
	if err := cmd.Start(); err != nil {
		return 127, fmt.Errorf("run %s: %w", command[0], err)
	}
	done := make(chan struct{})
	defer close(done)
	go forwardSignals(cmd.Process, sigs, done)

	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 1, fmt.Errorf("run %s: %w", command[0], err)
	}
	return exitStatus(cmd.ProcessState), nil
}

func forwardSignals(p *os.Process, sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case sig := <-sigs:
			// The process may have exited in between; nothing is left to tell.
			_ = p.Signal(sig)
		case <-done:
			return
		}
	}
}

// exitStatus reports death by a signal the way shells do, as 128+signal.
func exitStatus(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
