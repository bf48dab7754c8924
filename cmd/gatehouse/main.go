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
	"slices"
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
	// dev finds dev's database for the command-line actions; run sets it.
	dev *devTarget
}

// command is one word after gatehouse: a command of its own (run), or a
// group such as users whose subcommands (verbs) the dispatcher and the help
// both read, so the help cannot leave one out.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
	verbs   []groupVerb
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the server (applies pending migrations first)", run: runServe},
		{name: "migrate", summary: "apply pending database migrations and exit", run: runMigrate},
		{name: "dev", summary: "run a complete local setup: private Postgres, demo users, the sample app's client", run: runDev},
		{name: "users", summary: "manage users", verbs: usersVerbs},
		{name: "settings", summary: "the tenant's run-time settings", verbs: settingsVerbs},
		{name: "clients", summary: "manage OAuth applications and their grants", verbs: clientsVerbs},
		{name: "apis", summary: "manage APIs (token audiences)", verbs: apisVerbs},
		{name: "roles", summary: "manage roles, their permissions and who holds them", verbs: rolesVerbs},
		{name: "keys", summary: "manage token signing keys", verbs: keysVerbs},
		{name: "policy", summary: "the MFA policy and the adaptive policy's block list", verbs: policyVerbs},
		{name: "import", summary: "import users from another provider", verbs: importVerbs},
		{name: "version", summary: "print the version", run: runVersion},
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
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(e.stderr, "gatehouse: unknown command %q (run gatehouse --help)\n", args[0])
		return 2
	}
	e.dev = &devTarget{varDir: devVarDir, getenv: e.getenv, stderr: e.stderr}
	err := cmds[i].exec(ctx, e, args[1:])
	e.dev.close()
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

func (c command) exec(ctx context.Context, e env, args []string) error {
	if c.verbs != nil {
		return runGroup(ctx, e, c.name, args, c.verbs)
	}
	return c.run(ctx, e, args)
}

// printUsage lists every command and, under a group, every subcommand.
func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "Gatehouse: a self-hosted OpenID Connect provider with password login and SMS MFA.")
	fmt.Fprintln(w, "\nUsage: gatehouse <command> [flags]\n\nCommands:")
	const indent = "             "
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		line := indent
		for i, v := range c.verbs {
			word := v.name
			if i < len(c.verbs)-1 {
				word += ","
			}
			if len(line)+1+len(word) > 80 && line != indent {
				fmt.Fprintln(w, line)
				line = indent
			}
			line += " " + word
		}
		if line != indent {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w, "\nRun gatehouse <command> --help for the subcommands, flags and environment of one command.")
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
