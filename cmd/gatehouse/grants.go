package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/store"
)

// builtInAPIs are the words the grant commands take for Gatehouse's own
// APIs, so that an operator need not type their issuer-based identifiers.
var builtInAPIs = map[string]string{"admin": server.AdminAPIPath, "management": server.ManagementAPIPath}

// runClientsGrant lets a machine-to-machine application ask for an API's
// tokens with some of its scopes (replacing an earlier grant for that API).
func runClientsGrant(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients grant ID --api AUDIENCE --scope SCOPE... [flags]",
		"Grants a machine-to-machine application an API's scopes: its client-credentials\n"+
			"tokens for that API may then carry them. --api admin names Gatehouse's own admin API,\n"+
			"--api management the Auth0 Management API subset (/api/v2/);\n"+
			"--scope all grants every scope the API defines. Replaces an earlier grant.",
		"DATABASE_URL")
	audience := fs.String("api", "", "the API's identifier (audience), admin or management (required)")
	var scopes stringList
	fs.Var(&scopes, "scope", "`SCOPE` to grant (repeatable, comma-separated, or all)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, err := parseFlagsAndArg(fs, args, "client id")
	if err != nil {
		return err
	}
	if *audience == "" {
		fmt.Fprintln(e.stderr, "gatehouse clients grant: --api is required")
		fs.Usage()
		return errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	api, err := findAPI(ctx, st, *audience)
	if err != nil {
		return err
	}
	want := scopes.values
	if slices.Equal(want, []string{"all"}) {
		defined, err := st.APIScopes(ctx, api.ID)
		if err != nil {
			return err
		}
		want = nil
		for _, s := range defined {
			want = append(want, s.Value)
		}
	}
	g, err := newClientAdmin(st).SetGrant(ctx, id, api.Identifier, want, cliActor(), account.Meta{})
	if err != nil {
		return explainClientError(err, id)
	}
	fmt.Fprintf(e.stdout, "%s may call %s with: %s\n", id, api.Identifier, strings.Join(g.Scopes, " "))
	return nil
}

// runClientsRevokeGrant takes an API away from an application at once: the
// admin API checks the grant on every call.
func runClientsRevokeGrant(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients revoke-grant ID --api AUDIENCE [flags]",
		"Removes an application's grant for an API (--api admin: the admin API; --api\n"+
			"management: the Management API).", "DATABASE_URL")
	audience := fs.String("api", "", "the API's identifier (audience), admin or management (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	api, err := findAPI(ctx, st, *audience)
	if err != nil {
		return err
	}
	err = newClientAdmin(st).DeleteGrant(ctx, id, api.Identifier, cliActor(), account.Meta{})
	if errors.Is(err, clients.ErrNotFound) {
		return fmt.Errorf("%s has no grant for %s", id, api.Identifier)
	} else if err != nil {
		return explainClientError(err, id)
	}
	fmt.Fprintf(e.stdout, "%s may no longer call %s\n", id, api.Identifier)
	return nil
}

// findAPI loads the API an operator names by its identifier, or a built-in
// API by its word (admin, management).
func findAPI(ctx context.Context, st *store.Store, audience string) (clients.API, error) {
	path, builtIn := builtInAPIs[audience]
	if !builtIn {
		api, err := st.APIByIdentifier(ctx, audience)
		if errors.Is(err, clients.ErrNotFound) {
			return api, fmt.Errorf("no API has the identifier %q (gatehouse apis list shows them)", audience)
		}
		return api, err
	}
	apis, err := st.ListAPIs(ctx)
	if err != nil {
		return clients.API{}, err
	}
	for _, a := range apis {
		if strings.HasSuffix(a.Identifier, path) {
			return a, nil
		}
	}
	return clients.API{}, fmt.Errorf("the %s API is not registered yet: run gatehouse serve (or dev) once", audience)
}
