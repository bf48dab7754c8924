package main

import (
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
	"github.com/gatehouse-id/gatehouse/store"
)

func runPolicy(ctx context.Context, e env, args []string) error {
	return runGroup(ctx, e, "policy", args, []groupVerb{
		{"set", "never|adaptive|always", runPolicySet},
		{"show", "", runPolicyShow},
		{"history", "", runPolicyHistory},
		{"blocked-networks", "[CIDR,CIDR…|none]", runPolicyBlockedNetworks},
	})
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
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SetSetting(ctx, mfa.PolicySettingKey, string(policy), operatorName()); err != nil {
		return err
	}
	if err := st.Record(ctx, account.Event{At: time.Now(), Type: "mfa.policy_changed",
		Subject: operatorName(), Details: map[string]any{"policy": string(policy)}}); err != nil {
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
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.Setting(ctx, mfa.PolicySettingKey)
	if errors.Is(err, store.ErrSettingNotFound) {
		v = string(mfa.DefaultPolicy)
	} else if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, v)
	return nil
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
	st, err := openCLIStore(ctx, e, *databaseURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if fs.NArg() == 0 {
		v, err := st.Setting(ctx, blockedNetworksKey)
		if errors.Is(err, store.ErrSettingNotFound) || v == "" {
			v = "none"
		} else if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, v)
		return nil
	}
	arg := strings.Join(fs.Args(), ",")
	if arg == "none" {
		arg = ""
	}
	prefixes, err := parseProxies("blocked networks", arg)
	if err != nil {
		return err
	}
	canonical := make([]string, len(prefixes))
	for i, p := range prefixes {
		canonical[i] = p.String()
	}
	return st.SetSetting(ctx, blockedNetworksKey, strings.Join(canonical, ","), operatorName())
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
