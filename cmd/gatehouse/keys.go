package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/keys"
)

// keysVerbs are the subcommands of gatehouse keys.
var keysVerbs = []groupVerb{
	{"rotate", "", runKeysRotate},
	{"list", "", runKeysList},
}

func runKeysRotate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "keys rotate [flags]",
		"Makes the next signing key current, retires the current one and publishes a\n"+
			"new next key, then prints the current key's kid. Every replica signs with it\n"+
			"within seconds. Retired keys stay in the JWKS for 48 hours, so tokens they\n"+
			"signed keep verifying. The next key is what relying parties have cached:\n"+
			"rotate no more often than they refresh the JWKS. Makes the first keys when\n"+
			"there are none.",
		"DATABASE_URL", "GATEHOUSE_SECRET_KEY")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	secret, err := parseSecretKey("GATEHOUSE_SECRET_KEY", e.cliSecretKey(*databaseURL))
	if err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := keys.NewManager(st, secret, keys.Options{})
	if err != nil {
		return err
	}
	if err := m.Init(ctx); err != nil {
		return err
	}
	if err := m.Rotate(ctx); err != nil {
		return err
	}
	kid, _, err := m.Signing(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, kid)
	return nil
}

func runKeysList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "keys list [flags]",
		"Lists the signing keys, oldest first: kid, state (next, current or retired)\n"+
			"and when each was created, activated and retired. Retired keys are purged by\n"+
			"the first rotation 48 hours after their retirement.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.SigningKeys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tSTATE\tCREATED\tACTIVATED\tRETIRED")
	for _, k := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, listTime(k.CreatedAt), listTime(k.ActivatedAt), listTime(k.RetiredAt))
	}
	return w.Flush()
}

func listTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
