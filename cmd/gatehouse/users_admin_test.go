package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestUsersListBlockPromoteDemoteDelete(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "GATEHOUSE_SECRET_KEY": testKey}
	ctx := context.Background()
	for _, args := range [][]string{
		{"--email", "root@example.com", "--admin"},
		{"--email", "ann@example.com", "--phone", "+447911123456"},
		{"--email", "bob@other.org"},
	} {
		if r := gatehouse(ctx, vars, "violet tractor meadow\n", append([]string{"users", "create", "--password-stdin"}, args...)...); r.code != 0 {
			t.Fatalf("create %v: %d %s", args, r.code, r.stderr)
		}
	}
	listed := func(t *testing.T, args ...string) []string {
		t.Helper()
		r := gatehouse(ctx, vars, "", append([]string{"users", "list"}, args...)...)
		if r.code != 0 {
			t.Fatalf("list %v: %d %s", args, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if !strings.HasPrefix(lines[0], "ID ") {
			t.Fatalf("no header: %q", r.stdout)
		}
		var emails []string
		for _, l := range lines[1:] {
			emails = append(emails, strings.Fields(l)[1])
		}
		return emails
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "ann@example.com bob@other.org root@example.com"},
		{[]string{"--query", "EXAMPLE"}, "ann@example.com root@example.com"},
		{[]string{"--query", "+447911123456"}, "ann@example.com"},
		{[]string{"--limit", "1"}, "ann@example.com"},
	} {
		if got := strings.Join(listed(t, tc.args...), " "); got != tc.want {
			t.Errorf("list %v: %s, want %s", tc.args, got, tc.want)
		}
	}

	steps := []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"block", "--email", "ann@example.com"}, 0, "ann@example.com blocked\n"},
		{[]string{"unblock", "--email", "ann@example.com"}, 0, "ann@example.com unblocked\n"},
		{[]string{"promote", "--email", "bob@other.org"}, 0, "bob@other.org is now an admin\n"},
		{[]string{"demote", "--email", "root@example.com"}, 0, "root@example.com is no longer an admin\n"},
		{[]string{"demote", "--email", "bob@other.org"}, 1, "last active admin"},
		{[]string{"delete", "--email", "ann@example.com"}, 2, "add --yes"},
		{[]string{"delete", "--email", "ann@example.com", "--yes"}, 0, "ann@example.com deleted\n"},
		{[]string{"block", "--email", "nobody@example.com"}, 1, `no user has the email address "nobody@example.com"`},
		{[]string{"block"}, 2, "--email is required"},
	}
	for _, s := range steps {
		r := gatehouse(ctx, vars, "", append([]string{"users"}, s.args...)...)
		out := r.stdout
		if s.code != 0 {
			out = r.stderr
		}
		if r.code != s.code || !strings.Contains(out, s.output) {
			t.Fatalf("users %v: %d %q %q; want %d and %q", s.args, r.code, r.stdout, r.stderr, s.code, s.output)
		}
	}
	conn, err := pgx.Connect(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var audited int
	if err := conn.QueryRow(ctx, `select count(*) from audit_log where event in ('user.blocked', 'user.unblocked', 'user.promoted', 'user.demoted', 'user.deleted')
		and details->>'by' like 'cli%'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 5 {
		t.Fatalf("%d audited actions by the operator, want 5", audited)
	}
}

func TestSettingsGetSetUnset(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	run := func(args ...string) result { return gatehouse(ctx, vars, "", append([]string{"settings"}, args...)...) }

	if r := run("get", "mfa_policy"); r.code != 0 || r.stdout != "\n" {
		t.Fatalf("unset policy: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run("set", "mfa_policy", "adaptive", "sms_limit_ip_hour", "7"); r.code != 0 {
		t.Fatalf("set: %d %q", r.code, r.stderr)
	}
	if r := run("get", "sms_limit_ip_hour"); r.stdout != "7\n" {
		t.Fatalf("get after set: %q", r.stdout)
	}
	r := run("get")
	if r.code != 0 || !strings.Contains(r.stdout, "mfa_policy") || !strings.Contains(r.stdout, "adaptive") || !strings.Contains(r.stdout, "(default") {
		t.Fatalf("get all: %d %q", r.code, r.stdout)
	}
	if r := run("unset", "sms_limit_ip_hour"); r.code != 0 {
		t.Fatalf("unset: %d %q", r.code, r.stderr)
	}
	if r := run("get", "sms_limit_ip_hour"); r.stdout != "\n" {
		t.Fatalf("after unset: %q", r.stdout)
	}

	// Secrets: refused without the master key, then shown only as set.
	if r := run("set", "plivo_auth_token", "tok-secret-000000001"); r.code != 2 || !strings.Contains(r.stderr, "plivo_auth_token: ") {
		t.Fatalf("secret without key: %d %q", r.code, r.stderr)
	}
	vars["GATEHOUSE_SECRET_KEY"] = testKey
	if r := run("set", "plivo_auth_token", "tok-secret-000000001"); r.code != 0 {
		t.Fatalf("secret with key: %d %q", r.code, r.stderr)
	}
	if r := run("get", "plivo_auth_token"); r.stdout != "(set)\n" {
		t.Fatalf("secret shown as %q", r.stdout)
	}
	if r := run("get"); strings.Contains(r.stdout, "tok-secret-000000001") {
		t.Fatal("the list shows a secret")
	}

	r = run("set", "mfa_policy", "sometimes", "sms_limit_ip_hour", "many")
	lines := fieldLines(r.stderr)
	if r.code != 2 || len(lines) != 2 || !strings.HasPrefix(lines[0], "mfa_policy: ") || !strings.HasPrefix(lines[1], "sms_limit_ip_hour: ") {
		t.Fatalf("bad values: %d %q", r.code, r.stderr)
	}
	if r := run("get", "mfa_policy"); r.stdout != "adaptive\n" {
		t.Fatalf("a refused set changed the policy to %q", r.stdout)
	}
	// A negative number is a value for the setting to refuse, not a flag.
	r = run("set", "sms_limit_ip_hour", "-3")
	if lines := fieldLines(r.stderr); r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "sms_limit_ip_hour: must be a whole number from 0 to ") {
		t.Fatalf("negative value: %d %q", r.code, r.stderr)
	}
	if r := run("set", "sms_limit_ip_hour", "-3", "--database-url", vars["DATABASE_URL"]); r.code != 2 || !strings.Contains(r.stderr, "must be a whole number") {
		t.Fatalf("negative value before a flag: %d %q", r.code, r.stderr)
	}
	if r := run("set", "--", "sms_limit_ip_hour", "5"); r.code != 0 {
		t.Fatalf("pairs after --: %d %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"set", "mfa_policy"}, {"get", "no_such_key"}, {"unset"}, {"frobnicate"}} {
		if r := run(args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}

// fieldLines are the "key: message" lines of stderr, without log lines.
func fieldLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "time=") {
			out = append(out, l)
		}
	}
	return out
}
