package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
)

// clientsVerbs are the subcommands of gatehouse clients.
var clientsVerbs = []groupVerb{
	{"create", "--name N --type spa|native|web|m2m --callback URL... [--logout-url URL...] [--web-origin ORIGIN...] [--client-id ID]", runClientsCreate},
	{"list", "", runClientsList},
	{"update", "ID [--name N] [--callback URL...] [--logout-url URL...] [--web-origin ORIGIN...] [--mfa-policy P] [--id-token-lifetime D] [--refresh-idle-lifetime D] [--refresh-absolute-lifetime D]", runClientsUpdate},
	{"rotate-secret", "ID", runClientsRotateSecret},
	{"delete", "ID", runClientsDelete},
	{"grant", "ID --api AUDIENCE|admin --scope SCOPE...|all", runClientsGrant},
	{"revoke-grant", "ID --api AUDIENCE|admin", runClientsRevokeGrant},
	{"claims", "ID [--claim CLAIM=SOURCE@TOKEN...] [--clear]", runClientsClaims},
	{"branding", "ID [--name N] [--logo-url URL | --logo FILE | --remove-logo] [--primary-color C] [--background-color C]", runClientsBranding},
}

const urlListHelp = "\n\nURL flags repeat, and one value may hold several separated by commas.\n" +
	"Callbacks and logout URLs are https URLs (http only for localhost) matched exactly\n" +
	"(a native app's loopback IP callbacks, such as http://127.0.0.1/cb, on any port);\n" +
	"web origins are scheme://host[:port] as a browser sends them."

func runClientsCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients create --name N --type spa|native|web|m2m [flags]",
		"Registers an application and prints its client id. For web and m2m clients a\n"+
			"secret is generated and printed once on the second line; only its hash is kept."+urlListHelp,
		"DATABASE_URL")
	name := fs.String("name", "", "display `NAME` (required)")
	typ := fs.String("type", "", "spa (public, PKCE), native (public, PKCE, loopback callbacks on any port), web (confidential) or m2m (client credentials) (required)")
	clientID := fs.String("client-id", "", "client `ID` to use instead of a random one")
	mfaPolicy := fs.String("mfa-policy", "default", "MFA `POLICY` for this application: never, adaptive, always, phishing_resistant (a passkey), or default (the tenant's)")
	var callbacks, logoutURLs, webOrigins stringList
	fs.Var(&callbacks, "callback", "allowed redirect `URL` (repeatable)")
	fs.Var(&logoutURLs, "logout-url", "allowed `URL` to return to after logout (repeatable)")
	fs.Var(&webOrigins, "web-origin", "allowed browser `ORIGIN` for CORS and web_message (repeatable)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{{"--name", *name}, {"--type", *typ}} {
		if f.value == "" {
			fmt.Fprintf(e.stderr, "gatehouse clients create: %s is required\n", f.name)
			fs.Usage()
			return errUsage
		}
	}
	c := clients.Client{
		ID:         *clientID,
		Name:       *name,
		Type:       clients.Type(*typ),
		Callbacks:  callbacks.values,
		LogoutURLs: logoutURLs.values,
		WebOrigins: webOrigins.values,
		MFAPolicy:  clientPolicy(*mfaPolicy),
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	created, secret, err := newClientAdmin(st).CreateClient(ctx, c, cliActor(), account.Meta{})
	if err != nil {
		return explainClientError(err, c.ID)
	}
	fmt.Fprintln(e.stdout, created.ID)
	if secret != "" {
		fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
		fmt.Fprintln(e.stderr, "The client secret is shown once; store it now. Gatehouse keeps only its hash.")
	}
	return nil
}

func runClientsList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients list", "Lists the registered applications.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListClients(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CLIENT ID\tTYPE\tNAME\tCALLBACKS")
	for _, c := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", c.ID, c.Type, c.Name, len(c.Callbacks))
	}
	return w.Flush()
}

func runClientsUpdate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients update ID [flags]",
		"Changes an application. Each list given replaces the stored one; an empty\n"+
			"value (--web-origin '') clears it. Lists not given are kept."+urlListHelp,
		"DATABASE_URL")
	name := fs.String("name", "", "new display `NAME`")
	mfaPolicy := fs.String("mfa-policy", "", "MFA `POLICY` for this application: never, adaptive, always, phishing_resistant (a passkey), or default (the tenant's)")
	var callbacks, logoutURLs, webOrigins stringList
	fs.Var(&callbacks, "callback", "allowed redirect `URL` (repeatable)")
	fs.Var(&logoutURLs, "logout-url", "allowed `URL` to return to after logout (repeatable)")
	fs.Var(&webOrigins, "web-origin", "allowed browser `ORIGIN` for CORS and web_message (repeatable)")
	lifetimes := []struct {
		flag, help string
		value      *string
		dst        func(*clients.Lifetimes) *time.Duration
	}{
		{"id-token-lifetime", "how long ID tokens last", nil, func(l *clients.Lifetimes) *time.Duration { return &l.IDToken }},
		{"refresh-idle-lifetime", "an unused refresh token expires after this", nil, func(l *clients.Lifetimes) *time.Duration { return &l.RefreshIdle }},
		{"refresh-absolute-lifetime", "a refresh token's login ends this long after it began", nil, func(l *clients.Lifetimes) *time.Duration { return &l.RefreshAbsolute }},
	}
	for i := range lifetimes {
		lifetimes[i].value = fs.String(lifetimes[i].flag, "", lifetimes[i].help+": `DURATION` (90m, 12h, 30d) or default (the tenant's)")
	}
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.ClientByID(ctx, id)
	if err != nil {
		return explainClientError(err, id)
	}
	if *name != "" {
		c.Name = *name
	}
	if *mfaPolicy != "" {
		c.MFAPolicy = clientPolicy(*mfaPolicy)
	}
	for _, l := range lifetimes {
		switch *l.value {
		case "":
		case "default":
			*l.dst(&c.Lifetimes) = 0
		default:
			d, err := clients.ParseLifetime(strings.ReplaceAll(l.flag, "-", "_"), *l.value)
			if err != nil {
				return err
			}
			if d == 0 {
				return fmt.Errorf("--%s: use default, not 0, to follow the tenant", l.flag)
			}
			*l.dst(&c.Lifetimes) = d
		}
	}
	for _, l := range []struct {
		flag *stringList
		dst  *[]string
	}{{&callbacks, &c.Callbacks}, {&logoutURLs, &c.LogoutURLs}, {&webOrigins, &c.WebOrigins}} {
		if l.flag.set {
			*l.dst = l.flag.values
		}
	}
	_, err = newClientAdmin(st).UpdateClient(ctx, c, cliActor(), account.Meta{})
	return explainClientError(err, id)
}

func runClientsRotateSecret(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients rotate-secret ID",
		"Gives a web or m2m application a new client secret and prints it once; the old\n"+
			"secret stops working at once. Only the new secret's hash is kept.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	_, secret, err := newClientAdmin(st).RotateSecret(ctx, id, cliActor(), account.Meta{})
	if err != nil {
		return explainClientError(err, id)
	}
	fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
	fmt.Fprintln(e.stderr, "The new client secret is shown once; store it now. The old one no longer works.")
	return nil
}

func runClientsDelete(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients delete ID",
		"Deletes an application together with every code and token issued to it.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return explainClientError(newClientAdmin(st).DeleteClient(ctx, id, cliActor(), account.Meta{}), id)
}

// newClientAdmin is the clients service on the command line's database.
func newClientAdmin(st *store.Store) *clients.Service {
	return clients.NewService(clients.Deps{Registry: st, Audit: st})
}

// cliActor is the operator at the command line, as the audit log names them.
func cliActor() account.Actor { return account.Actor{Name: operatorName()} }

// explainClientError words the clients service's refusals for the command
// line; a *ValidationError already names its field.
func explainClientError(err error, id string) error {
	var ve *clients.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, clients.ErrNotFound):
		return fmt.Errorf("no client has the id %q", id)
	case errors.Is(err, clients.ErrDuplicate):
		return fmt.Errorf("a client with the id %q already exists", id)
	case errors.Is(err, clients.ErrBuiltIn):
		return fmt.Errorf("the client %q is built in: Gatehouse manages it", id)
	}
	return err
}

// groupVerb is one subcommand of a command group, such as `clients create`.
type groupVerb struct {
	name, args string
	run        func(ctx context.Context, e env, args []string) error
}

// runGroup runs the verb args[0] names, or explains the group's verbs.
func runGroup(ctx context.Context, e env, group string, args []string, verbs []groupVerb) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stderr, "Usage: gatehouse %s <command> [flags]\n\nCommands:\n", group)
		for _, v := range verbs {
			fmt.Fprintln(e.stderr, strings.TrimRight("  "+group+" "+v.name+" "+v.args, " "))
		}
		fmt.Fprintf(e.stderr, "\nRun gatehouse %s <command> --help for details.\n", group)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	var names []string
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(ctx, e, args[1:])
		}
		names = append(names, v.name)
	}
	fmt.Fprintf(e.stderr, "gatehouse %s: unknown subcommand %q (use %s)\n", group, args[0], strings.Join(names, ", "))
	return errUsage
}

// parseFlagsAndArg parses flags around exactly one positional argument, which
// may come before, between or after them, and returns the argument.
func parseFlagsAndArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var arg string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		if arg != "" {
			fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
			fs.Usage()
			return "", errUsage
		}
		arg, args = fs.Arg(0), fs.Args()[1:]
	}
	if arg == "" {
		fmt.Fprintf(fs.Output(), "%s: the %s is required\n", fs.Name(), what)
		fs.Usage()
		return "", errUsage
	}
	return arg, nil
}

// argAndStore parses a command's flags and its one argument (what names it
// in errors), then opens the database.
func argAndStore(ctx context.Context, e env, fs *flag.FlagSet, args []string, what, databaseURL string) (string, *store.Store, error) {
	arg, err := parseFlagsAndArg(fs, args, what)
	if err != nil {
		return "", nil, err
	}
	st, err := openCLIStore(ctx, e, databaseURL, false)
	return arg, st, err
}

// clientPolicy maps the flag's "default" to the stored "" (follow the tenant).
func clientPolicy(flag string) string {
	if flag == "default" {
		return ""
	}
	return flag
}

// stringList is a repeatable flag; one value may also hold several separated
// by commas. set tells an empty list given on purpose from no flag at all.
type stringList struct {
	values []string
	set    bool
}

func (l *stringList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.values, ",")
}

func (l *stringList) Set(v string) error {
	l.set = true
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			l.values = append(l.values, part)
		}
	}
	return nil
}
