package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/store"
)

// usersVerbs are the subcommands of gatehouse users.
var usersVerbs = []groupVerb{
	{"create", "--email E [--name N] [--password-stdin] [--admin] [--phone +E164]", runUsersCreate},
	{"reset-mfa", "--email E", runUsersResetMFA},
	{"forget-browsers", "--email E", runUsersForgetBrowsers},
	{"passkeys", "--email E", runUsersPasskeys},
	{"remove-passkey", "--email E --id ID", runUsersRemovePasskey},
	{"verify-email", "--email E", runUsersVerifyEmail},
	{"list", "[--query Q] [--limit N]", runUsersList},
	{"block", "--email E", runUsersBlock},
	{"unblock", "--email E", runUsersUnblock},
	{"promote", "--email E", runUsersPromote},
	{"demote", "--email E", runUsersDemote},
	{"delete", "--email E --yes", runUsersDelete},
}

// runUsersVerifyEmail marks a user's address verified on the operator's
// word, e.g. for an imported user whose address is known to be theirs.
func runUsersVerifyEmail(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users verify-email --email E [flags]",
		"Marks the user's email address as verified, as if they had followed the\n"+
			"verification link; ID tokens then carry email_verified true. Audited as\n"+
			"user.email_verified by operator.", "DATABASE_URL")
	email := fs.String("email", "", "the user's email address (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintf(e.stderr, "%s: --email is required\n", fs.Name())
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
		return fmt.Errorf("no user has the email address %q", *email)
	}
	if err != nil {
		return err
	}
	if _, err := newAccounts(st, slog.New(slog.DiscardHandler), nil, nil, nil).MarkEmailVerified(ctx, u.ID, "operator", account.Meta{}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "email address verified for %s\n", u.Email)
	return nil
}

// runUsersForgetBrowsers ends the "remember this browser" trust of every
// browser of a user, e.g. after a lost laptop; the phone stays.
func runUsersForgetBrowsers(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users forget-browsers --email E [flags]",
		"Forgets every browser the user asked to be remembered: their next login there\n"+
			"passes the second factor again. The phone and recovery codes stay.", "DATABASE_URL", "GATEHOUSE_SECRET_KEY")
	email := fs.String("email", "", "the user's email address (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	svc, _, u, done, err := userMFACommand(ctx, e, fs, args, email, databaseURL)
	if err != nil {
		return err
	}
	defer done()
	n, err := svc.ForgetAllBrowsers(ctx, u.ID, "admin")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d remembered browsers forgotten for %s\n", n, u.Email)
	return nil
}

// userMFACommand does what the per-user MFA commands share: flags, the master
// key, the store, the user by email and the MFA service.
func userMFACommand(ctx context.Context, e env, fs *flag.FlagSet, args []string, email, databaseURL *string) (*mfa.Service, *store.Store, account.User, func(), error) {
	none := func() {}
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, account.User{}, none, err
	}
	if *email == "" {
		fmt.Fprintf(e.stderr, "%s: --email is required\n", fs.Name())
		fs.Usage()
		return nil, nil, account.User{}, none, errUsage
	}
	secret, err := parseSecretKey("GATEHOUSE_SECRET_KEY", e.cliSecretKey(*databaseURL))
	if err != nil {
		return nil, nil, account.User{}, none, err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return nil, nil, account.User{}, none, err
	}
	u, err := st.UserByEmail(ctx, *email)
	if errors.Is(err, account.ErrNotFound) {
		err = fmt.Errorf("no user has the email address %q", *email)
	}
	if err != nil {
		st.Close()
		return nil, nil, account.User{}, none, err
	}
	catalog, err := i18n.Load()
	if err != nil {
		st.Close()
		return nil, nil, account.User{}, none, err
	}
	svc, _, err := newMFA(st, secret, mfa.DefaultRules().TrustedBrowserFor, nil, catalog, slog.New(slog.DiscardHandler))
	if err != nil {
		st.Close()
		return nil, nil, account.User{}, none, err
	}
	return svc, st, u, st.Close, nil
}

// runUsersResetMFA removes a user's phone, recovery codes and MFA failure
// counters: the way out of an MFA account lock, and for a lost phone.
func runUsersResetMFA(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users reset-mfa --email E [flags]",
		"Removes the user's verified phone, authenticator app, passkeys, recovery codes\n"+
			"and MFA failure counters, lifting an MFA lock. Under the always policy the user\n"+
			"enrolls again at the next login.", "DATABASE_URL", "GATEHOUSE_SECRET_KEY")
	email := fs.String("email", "", "the user's email address (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	svc, _, u, done, err := userMFACommand(ctx, e, fs, args, email, databaseURL)
	if err != nil {
		return err
	}
	defer done()
	if err := svc.ResetMFABy(ctx, u.ID, operatorName()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "MFA reset for %s\n", u.Email)
	return nil
}

func runUsersCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users create --email E [flags]",
		"Creates a user and prints its id. Without --password-stdin a strong password\nis generated and printed once on stderr. The signup password rules apply.\n"+
			"--phone records the number as an already verified SMS factor (you vouch for\nit, as an import does); it needs GATEHOUSE_SECRET_KEY to seal the number.",
		"DATABASE_URL", "GATEHOUSE_SECRET_KEY (with --phone)")
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	admin := fs.Bool("admin", false, "give the user the admin role")
	phoneFlag := fs.String("phone", "", "verified mobile number in E.164, e.g. +447700900123")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintln(e.stderr, "gatehouse users create: --email is required")
		fs.Usage()
		return errUsage
	}
	var phone mfa.Phone
	var secret []byte
	if *phoneFlag != "" {
		var err error
		if phone, err = mfa.ParsePhone(*phoneFlag, "", nil); err != nil {
			return fmt.Errorf("--phone %q: %w", *phoneFlag, err)
		}
		if secret, err = parseSecretKey("GATEHOUSE_SECRET_KEY", e.cliSecretKey(*databaseURL)); err != nil {
			return err
		}
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	plain, generated, err := choosePassword(e, *fromStdin)
	if err != nil {
		return err
	}
	u, err := newAccounts(st, slog.New(slog.DiscardHandler), nil, nil, nil).CreateUser(ctx, *email, *name, plain, *admin, account.Meta{})
	if err != nil {
		return explainCreateError(err)
	}
	if *phoneFlag != "" {
		catalog, err := i18n.Load()
		if err != nil {
			return err
		}
		svc, _, err := newMFA(st, secret, mfa.DefaultRules().TrustedBrowserFor, nil, catalog, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		if _, err := svc.EnrollByOperator(ctx, u.ID, phone); err != nil {
			return fmt.Errorf("user %s created, but recording the phone failed: %w", u.ID, err)
		}
	}
	fmt.Fprintln(e.stdout, u.ID)
	if generated {
		fmt.Fprintf(e.stderr, "Generated password for %s (shown once): %s\n", u.Email, plain)
	}
	return nil
}

// choosePassword reads one line from stdin, or makes a password when asked
// for none.
func choosePassword(e env, fromStdin bool) (plain string, generated bool, err error) {
	if !fromStdin {
		return rand.Text(), true, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func explainCreateError(err error) error {
	var weak password.Weakness
	switch {
	case errors.As(err, &weak):
		return fmt.Errorf("password refused: %s", weak.Message)
	case errors.Is(err, account.ErrEmailTaken):
		return errors.New("a user with this email address already exists")
	case errors.Is(err, account.ErrInvalidEmail):
		return errors.New("--email is not a valid email address")
	case errors.Is(err, account.ErrInvalidName):
		return errors.New("--name is too long or has control characters")
	}
	return err
}
