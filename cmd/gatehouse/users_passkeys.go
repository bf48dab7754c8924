package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/passkey"
)

// runUsersPasskeys lists a user's passkeys with the ids remove-passkey takes.
func runUsersPasskeys(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users passkeys --email E [flags]",
		"Lists the user's passkeys, newest first: id, name, authenticator, whether it\n"+
			"syncs across the user's devices, when it was added and last used, and\n"+
			"whether it is refused as copied (its signature counter went backwards).", "DATABASE_URL")
	email := fs.String("email", "", "the user's email address (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, _, u, err := userAdminCommand(ctx, e, fs, email, databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	creds, err := st.Passkeys(ctx, u.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tAUTHENTICATOR\tSYNCED\tCREATED\tLAST USED\tREFUSED AS COPIED")
	for _, c := range creds {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", base64.RawURLEncoding.EncodeToString(c.ID), c.Name, c.Authenticator,
			yesNo(c.BackupEligible), cliTime(c.CreatedAt), cliTime(c.LastUsedAt), yesNo(c.CloneWarning))
	}
	return w.Flush()
}

// runUsersRemovePasskey removes one passkey of a user, e.g. a lost security
// key, leaving their other factors.
func runUsersRemovePasskey(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users remove-passkey --email E --id ID [flags]",
		"Removes one of the user's passkeys; it can no longer sign in. The id is the\n"+
			"one users passkeys lists. Audited as mfa.passkey_removed by operator. The\n"+
			"user is not mailed from the command line: tell them. Removing the last\n"+
			"factor removes the recovery codes too.", "DATABASE_URL", "GATEHOUSE_SECRET_KEY")
	email := fs.String("email", "", "the user's email address (required)")
	id := fs.String("id", "", "the passkey's id as users passkeys lists it (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	svc, st, u, done, err := userMFACommand(ctx, e, fs, args, email, databaseURL)
	if err != nil {
		return err
	}
	defer done()
	credID, err := base64.RawURLEncoding.DecodeString(*id)
	if *id == "" || err != nil {
		fmt.Fprintf(e.stderr, "%s: --id is required: a passkey id as users passkeys lists it\n", fs.Name())
		fs.Usage()
		return errUsage
	}
	// As any factor leaves: under the user's MFA lock, the recovery codes
	// going with the last factor, and audited in the same transaction.
	var c passkey.Credential
	err = svc.RemoveAlongside(ctx, u.ID, func(ctx context.Context) error {
		var err error
		if c, err = st.RemovePasskey(ctx, u.ID, credID); err != nil {
			return err
		}
		return st.Record(ctx, account.Event{At: time.Now(), Type: "mfa." + string(account.ChangePasskeyRemoved), UserID: u.ID,
			Subject: u.Email, Details: map[string]any{"passkey": c.Name, "authenticator": c.Authenticator, "by": operatorName()}})
	})
	if errors.Is(err, passkey.ErrUnknownCredential) {
		return fmt.Errorf("%s has no passkey with the id %s", u.Email, *id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "passkey %q removed from %s\n", c.Name, u.Email)
	return nil
}
