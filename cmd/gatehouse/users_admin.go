package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

// runUsersList prints the users matching a part of their email address, or
// the user whose verified phone is the number given.
func runUsersList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users list [--query Q] [--limit N] [flags]",
		"Lists users in email order. --query matches part of the email address, ignoring\n"+
			"case, or a whole subject (the sub of the user's tokens, e.g. an imported user's\n"+
			"auth0|60d5…); a phone number in international form (+447911123456) finds the\n"+
			"user whose verified phone it is, which needs GATEHOUSE_SECRET_KEY.", "DATABASE_URL", "GATEHOUSE_SECRET_KEY (phone search)")
	query := fs.String("query", "", "part of an email address, a subject, or a phone number in E.164")
	limit := fs.Int("limit", 50, "at most this many users (up to 500)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 500 {
		fmt.Fprintln(e.stderr, "gatehouse users list: --limit must be between 1 and 500")
		return errUsage
	}
	search := account.UserSearch{Text: *query, Limit: *limit}
	phone, phoneErr := mfa.ParsePhone(*query, "", nil)
	byPhone := *query != "" && !strings.Contains(*query, "@") && phoneErr == nil
	var vault *mfa.PhoneVault
	if byPhone {
		secret, err := parseSecretKey("GATEHOUSE_SECRET_KEY", e.cliSecretKey(*databaseURL))
		if err != nil {
			return fmt.Errorf("searching by phone number needs the master key: %w", err)
		}
		if vault, err = mfa.NewPhoneVault(secret); err != nil {
			return err
		}
		search = account.UserSearch{PhoneLookup: vault.Lookup(phone.E164), Limit: *limit}
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := newAccounts(st, slog.New(slog.DiscardHandler), nil, nil, nil).SearchUsers(ctx, search)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tEMAIL\tVERIFIED\tADMIN\tBLOCKED\tCREATED\tLAST LOGIN\tSUBJECT")
	for _, u := range page.Users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, yesNo(u.EmailVerified), yesNo(u.Admin), yesNo(u.Blocked),
			cliTime(u.CreatedAt), cliTime(u.LastLoginAt), u.Subject)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(e.stderr, "More users match; narrow --query or raise --limit (showing %s).\n", strconv.Itoa(len(page.Users)))
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func cliTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// userAdminCommand does what the per-user admin commands share: flags, the
// store, the account service and the user by email, once the flags are
// parsed.
func userAdminCommand(ctx context.Context, e env, fs *flag.FlagSet, email, databaseURL *string) (*store.Store, *account.Service, account.User, error) {
	if *email == "" {
		fmt.Fprintf(e.stderr, "%s: --email is required\n", fs.Name())
		fs.Usage()
		return nil, nil, account.User{}, errUsage
	}
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return nil, nil, account.User{}, err
	}
	accounts := newAccounts(st, slog.New(slog.DiscardHandler), nil, nil, nil)
	u, err := accounts.UserByEmail(ctx, *email)
	if errors.Is(err, account.ErrNotFound) {
		err = fmt.Errorf("no user has the email address %q", *email)
	}
	if err != nil {
		st.Close()
		return nil, nil, account.User{}, err
	}
	return st, accounts, u, nil
}

// userAction is one of the commands that change one user and print what
// they did.
func userAction(name, help, done string, act func(ctx context.Context, accounts *account.Service, u account.User, by account.Actor) error) func(context.Context, env, []string) error {
	return func(ctx context.Context, e env, args []string) error {
		fs := newFlagSet(e, "users "+name+" --email E [flags]", help, "DATABASE_URL")
		email := fs.String("email", "", "the user's email address (required)")
		databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		st, accounts, u, err := userAdminCommand(ctx, e, fs, email, databaseURL)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := act(ctx, accounts, u, account.Actor{Name: operatorName()}); err != nil {
			return explainAdminError(err)
		}
		fmt.Fprintf(e.stdout, "%s %s\n", u.Email, done)
		return nil
	}
}

var (
	runUsersBlock = userAction("block", "Blocks the user: their sessions end, their apps' refresh tokens are revoked\nand their logins are refused until unblocked.", "blocked",
		func(ctx context.Context, a *account.Service, u account.User, by account.Actor) error {
			return a.SetBlocked(ctx, u.ID, true, by, account.Meta{})
		})
	runUsersUnblock = userAction("unblock", "Lets a blocked user log in again.", "unblocked",
		func(ctx context.Context, a *account.Service, u account.User, by account.Actor) error {
			return a.SetBlocked(ctx, u.ID, false, by, account.Meta{})
		})
	runUsersPromote = userAction("promote", "Gives the user the admin role: the admin console, behind a second factor.", "is now an admin",
		func(ctx context.Context, a *account.Service, u account.User, by account.Actor) error {
			return a.SetAdmin(ctx, u.ID, true, by, account.Meta{})
		})
	runUsersDemote = userAction("demote", "Takes the admin role away. The last active admin keeps it.", "is no longer an admin",
		func(ctx context.Context, a *account.Service, u account.User, by account.Actor) error {
			return a.SetAdmin(ctx, u.ID, false, by, account.Meta{})
		})
)

// runUsersDelete deletes a user, only with --yes.
func runUsersDelete(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "users delete --email E --yes [flags]",
		"Deletes the user with their sessions, tokens, phone, authenticator app and\n"+
			"recovery codes. It cannot be undone; the audit log keeps its entries.", "DATABASE_URL")
	email := fs.String("email", "", "the user's email address (required)")
	yes := fs.Bool("yes", false, "confirm the deletion (required)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*yes {
		fmt.Fprintln(e.stderr, "gatehouse users delete: deleting a user cannot be undone; add --yes to confirm")
		return errUsage
	}
	st, accounts, u, err := userAdminCommand(ctx, e, fs, email, databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := accounts.DeleteUser(ctx, u.ID, account.Actor{Name: operatorName()}, account.Meta{}); err != nil {
		return explainAdminError(err)
	}
	fmt.Fprintf(e.stdout, "%s deleted\n", u.Email)
	return nil
}

func explainAdminError(err error) error {
	if errors.Is(err, account.ErrLastAdmin) {
		return errors.New("this is the last active admin; promote another user first")
	}
	return err
}
