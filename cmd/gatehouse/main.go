// Command gatehouse is the Gatehouse identity server: one binary that serves
// the hosted login pages, applies its own database migrations, manages users
// from the command line and runs a complete local setup with `gatehouse dev`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env{
		getenv: os.Getenv,
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
	}))
}

// env is the outside world a command sees; tests supply their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the server (applies pending migrations first)", runServe},
		"migrate":  {"apply pending database migrations and exit", runMigrate},
		"dev":      {"run a complete local setup: private Postgres under ./var, demo users", runDev},
		"users":    {"manage users: users create|list|block|unblock|promote|demote|delete|reset-mfa", runUsers},
		"settings": {"the tenant's settings: settings get [KEY], set KEY VALUE…, unset KEY", runSettings},
		"clients":  {"manage OAuth applications: clients create|list|update|delete", runClients},
		"apis":     {"manage APIs (token audiences): apis create|list|delete", runAPIs},
		"keys":     {"manage token signing keys: keys rotate|list", runKeys},
		"policy":   {"the MFA policy: policy set never|adaptive|always, policy show", runPolicy},
		"import":   {"import users from another provider: import auth0 EXPORT.ndjson", runImport},
		"version":  {"print the version", runVersion},
	}
}

// usageError means the command line itself was wrong; the message is already
// written.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, e env) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "gatehouse: unknown command %q (run gatehouse --help)\n", args[0])
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	var cfgErr *configError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &cfgErr):
		fmt.Fprintf(e.stderr, "gatehouse: %v\n", cfgErr)
		return 2
	default:
		fmt.Fprintf(e.stderr, "gatehouse %s: %v\n", args[0], err)
		return 1
	}
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Gatehouse: a self-hosted OpenID Connect provider with password login and SMS MFA.")
	fmt.Fprintln(w, "\nUsage: gatehouse <command> [flags]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun gatehouse <command> --help for the flags and environment of one command.")
}

// newFlagSet makes a flag set whose --help text names the command and the
// environment variables it reads.
func newFlagSet(e env, name, usage string, vars ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("gatehouse "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: gatehouse %s\n\n%s\n", name, usage)
		if hasFlags(fs) {
			fmt.Fprintln(e.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
		if len(vars) > 0 {
			fmt.Fprintf(e.stderr, "\nEnvironment (flags win): %s\n", strings.Join(vars, ", "))
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args, mapping a bad command line to errUsage (the flag
// package has already explained it).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
