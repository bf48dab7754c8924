package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/settings"
)

// settingsVerbs are the subcommands of gatehouse settings.
var settingsVerbs = []groupVerb{
	{"get", "[KEY]", runSettingsGet},
	{"set", "KEY VALUE [KEY VALUE…]", runSettingsSet},
	{"unset", "KEY", runSettingsUnset},
}

// runSettingsGet prints one setting's value, or every setting with its
// value, or its default while unset. Secrets only say "(set)".
func runSettingsGet(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "settings get [KEY] [flags]",
		"Prints the value of KEY, or lists every setting. Secrets show only as \"(set)\";\n"+
			"an unset setting prints nothing, and in the list shows its default.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	key, err := parseFlagsAndOptionalArgs(fs, args, 1)
	if err != nil {
		return err
	}
	if len(key) == 1 {
		if _, err := settings.Describe(key[0]); err != nil {
			fmt.Fprintf(e.stderr, "%s: is not a setting (run gatehouse settings get for the list)\n", key[0])
			return errUsage
		}
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
	if len(key) == 1 {
		fmt.Fprintln(e.stdout, snap.Display(key[0]))
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tVALUE")
	for _, spec := range settings.All() {
		v := snap.Display(spec.Key)
		if !snap.IsSet(spec.Key) {
			v = "(default"
			if spec.Default != "" {
				v += ": " + spec.Default
			}
			v += ")"
		}
		fmt.Fprintf(w, "%s\t%s\n", spec.Key, v)
	}
	return w.Flush()
}

// runSettingsSet changes settings, all or none.
func runSettingsSet(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "settings set KEY VALUE [KEY VALUE…] [flags]",
		"Changes settings, all or none, as the admin console does; every replica applies\n"+
			"them within a second. Secrets need GATEHOUSE_SECRET_KEY. The word after a KEY is\n"+
			"its value even when it begins with -.", "DATABASE_URL", "GATEHOUSE_SECRET_KEY (secrets)")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	pairs, err := parseFlagsAndPairs(fs, args)
	if err != nil {
		return err
	}
	if len(pairs) == 0 || len(pairs)%2 != 0 {
		fmt.Fprintln(e.stderr, "gatehouse settings set: give KEY VALUE pairs")
		fs.Usage()
		return errUsage
	}
	changes := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		changes[pairs[i]] = pairs[i+1]
	}
	return changeSettings(ctx, e, *databaseURL, changes)
}

// runSettingsUnset returns a setting to its default.
func runSettingsUnset(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "settings unset KEY [flags]", "Returns KEY to its default.", "DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	key, err := parseFlagsAndArg(fs, args, "setting")
	if err != nil {
		return err
	}
	return changeSettings(ctx, e, *databaseURL, map[string]string{key: settings.Unset})
}

// changeSettings stores changes; refused values are printed one line per
// key, and the command exits 2.
func changeSettings(ctx context.Context, e env, databaseURL string, changes map[string]string) error {
	st, tenant, err := openCLISettings(ctx, e, databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	err = tenant.Set(ctx, changes, operatorName(), account.Meta{})
	var fields settings.FieldErrors
	if errors.As(err, &fields) {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(e.stderr, "%s: %s\n", k, fields[k])
		}
		return errUsage
	}
	return err
}

// parseFlagsAndOptionalArgs parses flags around positional arguments, which
// may come before, between or after them; max limits how many (-1: any).
func parseFlagsAndOptionalArgs(fs *flag.FlagSet, args []string, max int) ([]string, error) {
	var out []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		out, args = append(out, fs.Arg(0)), fs.Args()[1:]
	}
	if max >= 0 && len(out) > max {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), out[max])
		fs.Usage()
		return nil, errUsage
	}
	return out, nil
}

// parseFlagsAndPairs parses flags around KEY VALUE pairs. The word after a
// key is its value whatever it looks like, so that a value such as -3 reaches
// the setting's own validation instead of being taken for a flag.
func parseFlagsAndPairs(fs *flag.FlagSet, args []string) ([]string, error) {
	var out []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return out, nil
		}
		n := min(2, len(rest))
		out, args = append(out, rest[:n]...), rest[n:]
	}
}
