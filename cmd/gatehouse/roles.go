package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/roles"
	"github.com/gatehouse-id/gatehouse/store"
)

// rolesVerbs are the subcommands of gatehouse roles: the roles package's
// Service, as the console and the admin API use it.
var rolesVerbs = []groupVerb{
	{"create", "--name N [--description D]", runRolesCreate},
	{"list", "", runRolesList},
	{"show", "ROLE", runRolesShow},
	{"delete", "ROLE", runRolesDelete},
	{"permissions", "ROLE --api AUDIENCE --scope S...", runRolesPermissions},
	{"assign", "ROLE --user EMAIL", runRolesAssign},
	{"unassign", "ROLE --user EMAIL", runRolesUnassign},
}

func newRoles(st *store.Store) *roles.Service {
	return roles.NewService(roles.Deps{Store: st, APIs: st, Audit: st, MachineOnly: builtInIdentifier})
}

// builtInIdentifier tells Gatehouse's own APIs by their identifiers, the
// issuer followed by their path, as findAPI does: the command line knows no
// issuer. It errs on the safe side: an operator's API whose identifier ends
// in such a path cannot take roles from the command line either.
func builtInIdentifier(identifier string) bool {
	for _, path := range builtInAPIs {
		if strings.HasSuffix(identifier, "/"+path) {
			return true
		}
	}
	return false
}

func runRolesCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "roles create --name N [flags]",
		"Creates a role, with no permissions yet, and prints its id.", "DATABASE_URL")
	name := fs.String("name", "", "the role's `NAME`, unique (required)")
	description := fs.String("description", "", "what the role is for")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		fmt.Fprintln(e.stderr, "gatehouse roles create: --name is required")
		fs.Usage()
		return errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := newRoles(st).CreateRole(ctx, roles.Role{Name: *name, Description: *description}, cliActor(), account.Meta{})
	if err != nil {
		return explainRoleError(err, *name)
	}
	fmt.Fprintln(e.stdout, r.ID)
	return nil
}

func runRolesList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "roles list", "Lists the roles.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := newRoles(st).Roles(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tDESCRIPTION")
	for _, r := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.ID, r.Name, r.Description)
	}
	return w.Flush()
}

func runRolesShow(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "roles show ROLE", "Prints a role's permissions, one per line: audience, then scope.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	ref, st, err := argAndStore(ctx, e, fs, args, "role (id or name)", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newRoles(st)
	r, err := svc.Role(ctx, ref)
	if err != nil {
		return explainRoleError(err, ref)
	}
	perms, err := svc.Permissions(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, p := range perms {
		fmt.Fprintln(e.stdout, p.String())
	}
	return nil
}

func runRolesDelete(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "roles delete ROLE", "Deletes a role; every user holding it loses it at once.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	ref, st, err := argAndStore(ctx, e, fs, args, "role (id or name)", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newRoles(st)
	r, err := svc.Role(ctx, ref)
	if err != nil {
		return explainRoleError(err, ref)
	}
	return explainRoleError(svc.DeleteRole(ctx, r.ID, cliActor(), account.Meta{}), ref)
}

func runRolesPermissions(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "roles permissions ROLE --api AUDIENCE --scope SCOPE... [flags]",
		"Sets the role's permissions on one API to these scopes of it (--scope all: every\n"+
			"scope the API defines; --scope '' : none). Its permissions on other APIs stay.",
		"DATABASE_URL")
	audience := fs.String("api", "", "the API's identifier (audience) (required)")
	var scopes stringList
	fs.Var(&scopes, "scope", "`SCOPE` of the API (repeatable, comma-separated, or all)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	ref, err := parseFlagsAndArg(fs, args, "role (id or name)")
	if err != nil {
		return err
	}
	if *audience == "" || !scopes.set {
		fmt.Fprintln(e.stderr, "gatehouse roles permissions: --api and --scope are required")
		fs.Usage()
		return errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newRoles(st)
	r, err := svc.Role(ctx, ref)
	if err != nil {
		return explainRoleError(err, ref)
	}
	api, err := st.APIByIdentifier(ctx, *audience)
	if err != nil {
		return explainAPIError(err, *audience)
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
	have, err := svc.Permissions(ctx, r.ID)
	if err != nil {
		return err
	}
	perms := slices.DeleteFunc(have, func(p roles.Permission) bool { return p.APIID == api.ID })
	for _, s := range want {
		perms = append(perms, roles.Permission{Audience: api.Identifier, Value: s})
	}
	stored, err := svc.SetPermissions(ctx, r.ID, perms, cliActor(), account.Meta{})
	if err != nil {
		return explainRoleError(err, ref)
	}
	for _, p := range stored {
		fmt.Fprintln(e.stdout, p.String())
	}
	return nil
}

func runRolesAssign(ctx context.Context, e env, args []string) error {
	return changeUserRole(ctx, e, args, true)
}

func runRolesUnassign(ctx context.Context, e env, args []string) error {
	return changeUserRole(ctx, e, args, false)
}

func changeUserRole(ctx context.Context, e env, args []string, add bool) error {
	verb, help := "assign", "Gives the user the role."
	if !add {
		verb, help = "unassign", "Takes the role from the user."
	}
	fs := newFlagSet(e, "roles "+verb+" ROLE --user EMAIL", help, "DATABASE_URL")
	email := fs.String("user", "", "the user's `EMAIL` (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	ref, err := parseFlagsAndArg(fs, args, "role (id or name)")
	if err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintf(e.stderr, "gatehouse roles %s: --user is required\n", verb)
		fs.Usage()
		return errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, *email)
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("no user has the email %q", *email)
	}
	if err != nil {
		return err
	}
	svc := newRoles(st)
	r, err := svc.Role(ctx, ref)
	if err != nil {
		return explainRoleError(err, ref)
	}
	if add {
		err = svc.AddUserRoles(ctx, u.ID, []string{r.ID}, cliActor(), account.Meta{})
	} else {
		err = svc.RemoveUserRoles(ctx, u.ID, []string{r.ID}, cliActor(), account.Meta{})
	}
	return explainRoleError(err, ref)
}

// runAPIsScopes sets an API's scopes, which roles and grants draw on.
func runAPIsScopes(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis scopes IDENTIFIER --scope S... [flags]",
		"Replaces the API's scopes (its permissions). Grants and roles lose the scopes\nthat are gone.",
		"DATABASE_URL")
	var scopes stringList
	fs.Var(&scopes, "scope", "`SCOPE` (repeatable, comma-separated; '' for none)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	identifier, err := parseFlagsAndArg(fs, args, "API identifier")
	if err != nil {
		return err
	}
	if !scopes.set {
		fmt.Fprintln(e.stderr, "gatehouse apis scopes: --scope is required")
		fs.Usage()
		return errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	api, err := st.APIByIdentifier(ctx, identifier)
	if err != nil {
		return explainAPIError(err, identifier)
	}
	list := make([]clients.Scope, len(scopes.values))
	for i, v := range scopes.values {
		list[i] = clients.Scope{Value: v}
	}
	return explainAPIError(newClientAdmin(st).SetScopes(ctx, api.ID, list, cliActor(), account.Meta{}), identifier)
}

// runAPIsRBAC sets an API's RBAC settings.
func runAPIsRBAC(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "apis rbac IDENTIFIER [--enforce=true|false] [--token-permissions=true|false]",
		"Sets the API's RBAC settings (Auth0's \"Enable RBAC\" and \"Add Permissions in the\n"+
			"Access Token\") and prints them. A flag left out keeps its setting.",
		"DATABASE_URL")
	enforce := fs.Bool("enforce", false, "users' tokens get only the requested scopes they hold as permissions")
	perms := fs.Bool("token-permissions", false, "access tokens carry the user's permissions on the API (needs --enforce)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	identifier, err := parseFlagsAndArg(fs, args, "API identifier")
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	api, err := st.APIByIdentifier(ctx, identifier)
	if err != nil {
		return explainAPIError(err, identifier)
	}
	svc := newRoles(st)
	s, err := svc.APISettings(ctx, api.ID)
	if err != nil {
		return err
	}
	if given["enforce"] {
		s.Enforce = *enforce
	}
	if given["token-permissions"] {
		s.TokenPermissions = *perms
	}
	if given["enforce"] || given["token-permissions"] {
		if err := svc.SetAPISettings(ctx, s, cliActor(), account.Meta{}); err != nil {
			return explainRoleError(err, identifier)
		}
	}
	fmt.Fprintf(e.stdout, "enforce: %t\ntoken-permissions: %t\n", s.Enforce, s.TokenPermissions)
	return nil
}

func explainRoleError(err error, ref string) error {
	var ve *roles.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, roles.ErrNotFound):
		return fmt.Errorf("no role has the id or name %q", ref)
	case errors.Is(err, roles.ErrDuplicate):
		return fmt.Errorf("a role named %q already exists", ref)
	}
	return err
}
