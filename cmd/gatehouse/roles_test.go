package main

import (
	"context"
	"os"
	"path/filepath"
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
		{"https://example.com/m=user_metadata.@both", "not a metadata path"},
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

func TestImportAuth0Roles(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	for _, args := range [][]string{
		{"apis", "create", "--identifier", "https://api.example.com", "--name", "API"},
		{"apis", "scopes", "https://api.example.com", "--scope", "read:messages,write:messages"},
	} {
		if r := gatehouse(ctx, vars, "", args...); r.code != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
	}
	if r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--email", "ann@example.com", "--password-stdin"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	file := filepath.Join(t.TempDir(), "roles.ndjson")
	content := `{"id":"rol_1","name":"reader","description":"Reads","permissions":[{"resource_server_identifier":"https://api.example.com","permission_name":"read:messages"}],"users":[{"user_id":"auth0|1","email":"ann@example.com"},{"email":"zed@example.com"}]}
{"name":"bad","permissions":[{"resource_server_identifier":"https://api.example.com","permission_name":"delete:all"}]}
not json
`
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		r := gatehouse(ctx, vars, "", "import", "auth0-roles", file)
		if r.code != 1 || r.stdout != "3 roles read, 1 assignments made, 3 problems\n" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q", run, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{`line 1: reader: no user has the email "zed@example.com"`, `line 2: bad: permissions: "delete:all" is not a scope`, "line 3: not a role"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("run %d: stderr %q lacks %q", run, r.stderr, want)
			}
		}
	}
	if r := gatehouse(ctx, vars, "", "roles", "show", "reader"); r.stdout != "https://api.example.com read:messages\n" {
		t.Errorf("roles show reader: %q", r.stdout)
	}
}
