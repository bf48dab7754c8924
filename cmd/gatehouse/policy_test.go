package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestPolicySetAndShow(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "policy", "show"); r.code != 0 || r.stdout != "never\n" {
		t.Fatalf("default policy: %d %q", r.code, r.stdout)
	}
	if r := gatehouse(ctx, vars, "", "policy", "set", "always"); r.code != 0 || r.stdout != "MFA policy: always\n" {
		t.Fatalf("set always: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "policy", "show"); r.stdout != "always\n" {
		t.Fatalf("after set: %q", r.stdout)
	}
	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "Bank", "--type", "spa", "--callback", "https://bank.example.com/cb", "--mfa-policy", "never")
	if r.code != 0 {
		t.Fatalf("client with its own policy: %d %s", r.code, r.stderr)
	}
	conn, err := pgx.Connect(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var appPolicy string
	var changes int
	if err := conn.QueryRow(ctx, `select mfa_policy from oauth_clients where id = $1`, strings.TrimSpace(r.stdout)).Scan(&appPolicy); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `select count(*) from settings_history where key = 'mfa_policy' and changed_by like 'cli:%'`).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if appPolicy != "never" || changes != 1 {
		t.Fatalf("app policy %q, %d recorded changes; want never and 1", appPolicy, changes)
	}
	if r := gatehouse(ctx, vars, "", "policy", "history"); r.code != 0 || !strings.Contains(r.stdout, "always") || !strings.Contains(r.stdout, "cli:") {
		t.Fatalf("policy history: %d %q %q", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct{ args, want string }{
		{"", "none\n"},
		{"203.0.113.0/24,198.51.100.7", ""},
		{"", "203.0.113.0/24,198.51.100.7/32\n"},
		{"none", ""},
		{"", "none\n"},
	} {
		args := []string{"policy", "blocked-networks"}
		if tc.args != "" {
			args = append(args, tc.args)
		}
		if r := gatehouse(ctx, vars, "", args...); r.code != 0 || r.stdout != tc.want {
			t.Fatalf("%v: %d %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := gatehouse(ctx, vars, "", "policy", "blocked-networks", "not-a-net"); r.code != 2 || !strings.Contains(r.stderr, "not an IP address or CIDR") {
		t.Fatalf("bad network: %d %q", r.code, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "policy", "set", "sometimes"); r.code != 1 || !strings.Contains(r.stderr, `unknown MFA policy "sometimes": use never, adaptive or always`) {
		t.Fatalf("bad policy: %d %q", r.code, r.stderr)
	}
}
