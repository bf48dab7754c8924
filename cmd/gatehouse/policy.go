package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// policyVerbs are the subcommands of gatehouse policy.
var policyVerbs = []groupVerb{
	{"set", "never|adaptive|always", runPolicySet},
	{"show", "", runPolicyShow},
	{"history", "", runPolicyHistory},
	{"blocked-networks", "[CIDR,CIDR…|none]", runPolicyBlockedNetworks},
}

func runPolicySet(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy set never|adaptive|always [flags]",
		"Sets the tenant's MFA policy. never: no second factor. always: every login\n"+
			"passes an SMS code, and users without a phone enroll one first. adaptive:\n"+
			"only logins whose risk assessment has low confidence are challenged.\n"+
			"Every replica applies the change within a second.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	arg, err := parseFlagsAndArg(fs, args, "policy")
	if err != nil {
		return err
	}
	policy, err := mfa.ParsePolicy(arg)
	if err != nil {
		return err
	}
	st, tenant, err := openCLISettings(ctx, e, *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := tenant.Set(ctx, map[string]string{settings.KeyPolicy: string(policy)}, operatorName(), account.Meta{}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "MFA policy: %s\n", policy)
	return nil
}

func runPolicyShow(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy show [flags]", "Prints the tenant's MFA policy.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, tenant, err := openCLISettings(ctx, e, *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	snap, err := tenant.Current(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, snap.Policy())
	return nil
}

// openCLISettings opens the database and the settings on it. The master key
// is optional: without it secret settings can be neither read nor set.
func openCLISettings(ctx context.Context, e env, databaseURL string) (*store.Store, *settings.Service, error) {
	var secret []byte
	if v := e.cliSecretKey(databaseURL); v != "" {
		var err error
		if secret, err = parseSecretKey("GATEHOUSE_SECRET_KEY", v); err != nil {
			return nil, nil, err
		}
	}
	st, err := openCLIStore(ctx, e, databaseURL, true)
	if err != nil {
		return nil, nil, err
	}
	tenant, err := settings.NewService(st, st, secret, nil)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, tenant, nil
}

// operatorName names who ran a command, for settings history: the OS user.
func operatorName() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// runPolicyBlockedNetworks shows or sets the networks whose logins the
// adaptive policy always challenges.
func runPolicyBlockedNetworks(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy blocked-networks [CIDR,CIDR…|none] [flags]",
		"Shows, or with an argument sets, the networks whose logins the adaptive policy\n"+
			"always challenges (comma-separated CIDRs or addresses; none clears the list).",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	st, tenant, err := openCLISettings(ctx, e, *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if fs.NArg() == 0 {
		snap, err := tenant.Current(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, cmp.Or(snap.Display(settings.KeyBlockedNetworks), "none"))
		return nil
	}
	arg := strings.Join(fs.Args(), ",")
	if arg == "none" {
		arg = ""
	}
	err = tenant.Set(ctx, map[string]string{settings.KeyBlockedNetworks: arg}, operatorName(), account.Meta{})
	var fields settings.FieldErrors
	if errors.As(err, &fields) {
		fmt.Fprintf(e.stderr, "blocked networks: %s\n", fields[settings.KeyBlockedNetworks])
		return errUsage
	}
	return err
}

// runPolicyHistory lists the latest changes of the MFA policy: when, to what,
// by whom.
func runPolicyHistory(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy history [flags]", "Lists the latest changes of the MFA policy, newest first.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	changes, err := st.SettingHistory(ctx, mfa.PolicySettingKey, 20)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHANGED AT\tPOLICY\tBY")
	for _, c := range changes {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.ChangedAt.UTC().Format(time.RFC3339), c.Value, c.ChangedBy)
	}
	return w.Flush()
}
