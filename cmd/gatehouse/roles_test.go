package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestRolesCommands(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	ok := func(stdin string, args ...string) string {
		t.Helper()
		r := gatehouse(ctx, vars, stdin, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, %s", args, r.code, r.stderr)
		}
		return r.stdout
	}
	ok("", "apis", "create", "--identifier", "https://api.example.com", "--name", "API")
	ok("", "apis", "scopes", "https://api.example.com", "--scope", "read:messages,write:messages")
	ok("", "roles", "create", "--name", "editor")
	ok("violet tractor meadow\n", "users", "create", "--email", "ann@example.com", "--password-stdin")

	if got := ok("", "roles", "permissions", "editor", "--api", "https://api.example.com", "--scope", "all"); got != "https://api.example.com read:messages\nhttps://api.example.com write:messages\n" {
		t.Errorf("permissions --scope all printed %q", got)
	}
	ok("", "roles", "assign", "editor", "--user", "ann@example.com")
	if got := ok("", "apis", "rbac", "https://api.example.com", "--enforce=true"); got != "enforce: true\ntoken-permissions: false\n" {
		t.Errorf("apis rbac printed %q", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"roles", "assign", "nobody", "--user", "ann@example.com"}, `no role has the id or name "nobody"`},
		{[]string{"roles", "assign", "editor", "--user", "zed@example.com"}, `no user has the email "zed@example.com"`},
		{[]string{"roles", "create", "--name", "editor"}, `a role named "editor" already exists`},
		{[]string{"roles", "permissions", "editor", "--api", "https://api.example.com", "--scope", "delete:all"}, `"delete:all" is not a scope of https://api.example.com`},
		{[]string{"roles", "permissions", "editor", "--api", "https://nowhere.example", "--scope", "x"}, `no API has the identifier "https://nowhere.example"`},
		{[]string{"apis", "rbac", "https://api.example.com", "--enforce=false", "--token-permissions=true"}, "needs RBAC on"},
	} {
		r := gatehouse(ctx, vars, "", c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 saying %q", c.args, r.code, r.stderr, c.want)
		}
	}
	ok("", "roles", "delete", "editor")
	if got := ok("", "roles", "list"); strings.Contains(got, "editor") {
		t.Errorf("after delete the list shows %q", got)
	}
}

func TestClientsClaims(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "App", "--type", "spa", "--callback", "http://localhost:3000/")
	if r.code != 0 {
		t.Fatalf("clients create: %d %s", r.code, r.stderr)
	}
	id := strings.Fields(r.stdout)[0]
	r = gatehouse(ctx, vars, "", "clients", "claims", id, "--claim", "https://example.com/roles=roles@both", "--claim", "https://example.com/e=email@id_token")
	if want := "https://example.com/roles=roles@both\nhttps://example.com/e=email@id_token\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("set: exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
	for _, c := range []struct{ spec, want string }{
		{"roles=roles@both", "not a namespaced claim name"},
		{"https://example.com/m=app_metadata.roles@both", "not available yet"},
		{"https://example.com/x", "write CLAIM=SOURCE@TOKEN"},
	} {
		r := gatehouse(ctx, vars, "", "clients", "claims", id, "--claim", c.spec)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("--claim %s: exit %d, stderr %q; want %q", c.spec, r.code, r.stderr, c.want)
		}
	}
	if r := gatehouse(ctx, vars, "", "clients", "claims", id); r.stdout != "https://example.com/roles=roles@both\nhttps://example.com/e=email@id_token\n" {
		t.Errorf("a refused change changed them: %q", r.stdout)
	}
	if r := gatehouse(ctx, vars, "", "clients", "claims", id, "--clear"); r.code != 0 || r.stdout != "" {
		t.Errorf("--clear: %d %q %s", r.code, r.stdout, r.stderr)
	}
}
