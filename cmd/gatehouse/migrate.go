package main

import (
	"context"
	"fmt"
)

func runMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "migrate [flags]",
		"Applies pending database migrations and exits. Safe to run from several\nmachines at once: they take turns under a Postgres advisory lock.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	st.Close()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}
