package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/claims"
)

// runClientsClaims prints or sets an application's custom claims.
func runClientsClaims(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients claims ID [--claim CLAIM=SOURCE@TOKEN...] [--clear]",
		"Prints the application's custom claims, one a line as CLAIM=SOURCE@TOKEN; with\n"+
			"--claim, replaces them. CLAIM is a URL (https://example.com/roles), SOURCE one of\n"+
			strings.Join(claims.Sources, ", ")+", TOKEN id_token, access_token or both.\n"+
			"--clear removes them all.",
		"DATABASE_URL")
	var specs repeatedFlag
	fs.Var(&specs, "claim", "`CLAIM=SOURCE@TOKEN` (repeatable), e.g. https://example.com/roles=roles@both")
	clear := fs.Bool("clear", false, "remove every custom claim")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := claims.NewService(st, st, nil, nil)
	if len(specs) > 0 || *clear {
		var ms []claims.Mapping
		for _, spec := range specs {
			m, err := parseClaimSpec(spec)
			if err != nil {
				return err
			}
			ms = append(ms, m)
		}
		err := svc.Set(ctx, id, ms, cliActor(), account.Meta{})
		var ve *claims.ValidationError
		switch {
		case errors.As(err, &ve):
			return ve
		case errors.Is(err, claims.ErrNotFound):
			return fmt.Errorf("no client has the id %q", id)
		case err != nil:
			return err
		}
	}
	ms, err := svc.Of(ctx, id)
	if err != nil {
		return err
	}
	for _, m := range ms {
		fmt.Fprintf(e.stdout, "%s=%s@%s\n", m.Claim, m.Source, m.Target)
	}
	return nil
}

// parseClaimSpec reads CLAIM=SOURCE@TOKEN; the claim is a URL, so the
// source is after its last "=" and the token after the last "@".
func parseClaimSpec(spec string) (claims.Mapping, error) {
	eq := strings.LastIndexByte(spec, '=')
	at := strings.LastIndexByte(spec, '@')
	if eq <= 0 || at < eq {
		return claims.Mapping{}, fmt.Errorf("--claim %q: write CLAIM=SOURCE@TOKEN, e.g. https://example.com/roles=roles@both", spec)
	}
	return claims.Mapping{Claim: spec[:eq], Source: spec[eq+1 : at], Target: claims.Target(spec[at+1:])}, nil
}

// repeatedFlag keeps every value of a repeated flag as given: a claim URL
// may hold commas.
type repeatedFlag []string

func (r *repeatedFlag) String() string     { return strings.Join(*r, " ") }
func (r *repeatedFlag) Set(v string) error { *r = append(*r, v); return nil }
