package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/auth0export"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/password"
)

// importVerbs are the subcommands of gatehouse import.
var importVerbs = []groupVerb{
	{"auth0", "EXPORT.ndjson", runImportAuth0},
	{"auth0-roles", "ROLES.ndjson", runImportAuth0Roles},
}

// importTally counts what an import did, for progress lines and the summary.
type importTally struct {
	imported, skipped, failed, phones, phoneProblems int
}

func (t importTally) String() string {
	return fmt.Sprintf("%d imported, %d already registered, %d failed; %d phones enrolled, %d phones refused",
		t.imported, t.skipped, t.failed, t.phones, t.phoneProblems)
}

// runImportAuth0 brings users over from an Auth0 export: email, name,
// verification, bcrypt hash (users keep their passwords) and verified phones
// from MFA enrollments. A bad line is reported and skipped; the import goes
// on, and a second run skips the users the first one imported.
func runImportAuth0(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "import auth0 EXPORT.ndjson [flags]",
		"Imports the users of an Auth0 export, one JSON object per line: a users-export\n"+
			"job, the password hash export, or Auth0's bulk-import schema (see\n"+
			"docs/migrating-from-auth0.md). Users keep their bcrypt passwords (re-hashed with\n"+
			"argon2id at their first login) and verified phones become their SMS factor.\n"+
			"Progress and each refused line go to stderr; the exit status is 1 if any line failed.",
		"DATABASE_URL", "GATEHOUSE_SECRET_KEY")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	path, err := parseFlagsAndArg(fs, args, "export file")
	if err != nil {
		return err
	}
	secret, err := parseSecretKey("GATEHOUSE_SECRET_KEY", e.cliSecretKey(*databaseURL))
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open the export: %w", err)
	}
	defer f.Close()
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	quiet := slog.New(slog.DiscardHandler)
	accounts := newAccounts(st, quiet, nil, nil, nil)
	catalog, err := i18n.Load()
	if err != nil {
		return err
	}
	factors, _, err := newMFA(st, secret, mfa.DefaultRules().TrustedBrowserFor, nil, catalog, quiet)
	if err != nil {
		return err
	}

	var tally importTally
	lastProgress := time.Now()
	err = auth0export.Read(f, func(rec auth0export.Record, lineErr error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Since(lastProgress) >= time.Second {
			fmt.Fprintf(e.stderr, "line %d: %s\n", rec.Line, tally)
			lastProgress = time.Now()
		}
		if lineErr != nil {
			tally.failed++
			fmt.Fprintln(e.stderr, lineErr)
			return nil
		}
		u, err := accounts.ImportUser(ctx, account.Imported{Email: rec.Email, Name: rec.Name, EmailVerified: rec.EmailVerified,
			PasswordHash: rec.PasswordHash, CreatedAt: rec.CreatedAt, Source: "auth0", ExternalID: rec.UserID,
			UserMetadata: rec.UserMetadata, AppMetadata: rec.AppMetadata}, account.Meta{})
		switch {
		case errors.Is(err, account.ErrEmailTaken):
			tally.skipped++
			fmt.Fprintf(e.stderr, "line %d: %s is already registered; skipped\n", rec.Line, rec.Email)
			return nil
		case err != nil && isRefusal(err):
			tally.failed++
			fmt.Fprintf(e.stderr, "line %d: %s: %v\n", rec.Line, rec.Email, err)
			return nil
		case err != nil:
			return fmt.Errorf("line %d: %w", rec.Line, err)
		}
		tally.imported++
		for i, raw := range rec.Phones {
			if i > 0 {
				tally.phoneProblems++
				fmt.Fprintf(e.stderr, "line %d: %s has several phones; only the first is kept\n", rec.Line, rec.Email)
				break
			}
			phone, err := mfa.ParsePhone(raw, "", nil)
			if err == nil {
				_, err = factors.EnrollByOperator(ctx, u.ID, phone)
			}
			if err != nil {
				tally.phoneProblems++
				fmt.Fprintf(e.stderr, "line %d: %s imported, but the phone %q was not enrolled: %v\n", rec.Line, rec.Email, raw, err)
				continue
			}
			tally.phones++
		}
		return nil
	})
	fmt.Fprintln(e.stdout, tally)
	if err != nil {
		return fmt.Errorf("import stopped: %w", err)
	}
	if tally.failed > 0 {
		return fmt.Errorf("%d lines failed; fix them and run the import again (imported users are skipped)", tally.failed)
	}
	return nil
}

// isRefusal tells a problem with one line's data from a failure of the
// import itself (the database gone), which must stop it.
func isRefusal(err error) bool {
	var metadata *account.MetadataError
	return errors.Is(err, account.ErrInvalidEmail) || errors.Is(err, account.ErrInvalidName) ||
		errors.Is(err, password.ErrMalformedHash) || errors.Is(err, account.ErrInvalidSubject) ||
		errors.Is(err, account.ErrSubjectTaken) || errors.As(err, &metadata)
}
