package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// apisVerbs are the subcommands of gatehouse apis.
var apisVerbs = []groupVerb{
	{"create", "--identifier AUDIENCE --name N [--token-lifetime 24h]", runAPIsCreate},
	{"list", "", runAPIsList},
	{"update", "IDENTIFIER [--name N] [--token-lifetime D]", runAPIsUpdate},
	{"delete", "IDENTIFIER", runAPIsDelete},
	{"scopes", "IDENTIFIER --scope S...", runAPIsScopes},
	{"rbac", "IDENTIFIER [--enforce=B] [--token-permissions=B]", runAPIsRBAC},
}

func runAPIsCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis create --identifier AUDIENCE --name N [flags]",
		"Registers an API that clients may ask access tokens for and prints its id. The\n"+
			"identifier is the audience: clients send it as audience= and tokens carry it\n"+
			"as aud. A URL such as https://api.example.com is customary; it is never fetched.",
		"DATABASE_URL")
	identifier := fs.String("identifier", "", "the `AUDIENCE`, e.g. https://api.example.com (required)")
	name := fs.String("name", "", "display `NAME` (required)")
	lifetime := fs.Duration("token-lifetime", 24*time.Hour, "how long its access tokens last, 1m to 720h")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{{"--identifier", *identifier}, {"--name", *name}} {
		if f.value == "" {
			fmt.Fprintf(e.stderr, "gatehouse apis create: %s is required\n", f.name)
			fs.Usage()
			return errUsage
		}
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := newClientAdmin(st).CreateAPI(ctx, clients.API{Identifier: *identifier, Name: *name, TokenLifetime: *lifetime},
		nil, cliActor(), account.Meta{})
	if err != nil {
		return explainAPIError(err, *identifier)
	}
	fmt.Fprintln(e.stdout, created.ID)
	return nil
}

func runAPIsList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis list", "Lists the registered APIs.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListAPIs(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "IDENTIFIER\tNAME\tTOKEN LIFETIME")
	for _, a := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\n", a.Identifier, a.Name, shortDuration(a.TokenLifetime))
	}
	return w.Flush()
}

func runAPIsUpdate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis update IDENTIFIER [flags]",
		"Changes an API's name or token lifetime. The identifier never changes: tokens\nalready issued carry it.",
		"DATABASE_URL")
	name := fs.String("name", "", "new display `NAME`")
	lifetime := fs.String("token-lifetime", "", "how long its access tokens last: `DURATION` (90m, 24h, 30d), 1m to 30d")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	identifier, st, err := argAndStore(ctx, e, fs, args, "API identifier", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := st.APIByIdentifier(ctx, identifier)
	if err != nil {
		return explainAPIError(err, identifier)
	}
	if *name != "" {
		a.Name = *name
	}
	if *lifetime != "" {
		if a.TokenLifetime, err = clients.ParseLifetime("token_lifetime", *lifetime); err != nil {
			return err
		}
	}
	_, err = newClientAdmin(st).UpdateAPI(ctx, a, cliActor(), account.Meta{})
	return explainAPIError(err, identifier)
}

func runAPIsDelete(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis delete IDENTIFIER",
		"Deletes an API; clients can no longer ask for tokens for it. Tokens already\nissued stay valid until they expire.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	identifier, st, err := argAndStore(ctx, e, fs, args, "API identifier", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return explainAPIError(newClientAdmin(st).DeleteAPI(ctx, identifier, cliActor(), account.Meta{}), identifier)
}

func explainAPIError(err error, identifier string) error {
	var ve *clients.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, clients.ErrNotFound):
		return fmt.Errorf("no API has the identifier %q", identifier)
	case errors.Is(err, clients.ErrDuplicate):
		return fmt.Errorf("an API with the identifier %q already exists", identifier)
	}
	return err
}

// shortDuration writes 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
