package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestClientsCreateListUpdateDelete(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()

	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "React SPA", "--type", "spa",
		"--callback", "http://localhost:3000", "--logout-url", "http://localhost:3000",
		"--web-origin", "http://localhost:3000,https://app.example.com")
	spaID := strings.TrimSpace(r.stdout)
	if r.code != 0 || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(spaID) || strings.Contains(r.stdout, "secret") {
		t.Fatalf("create spa: exit %d, stdout %q, stderr %q; want a 32-character id and no secret", r.code, r.stdout, r.stderr)
	}
	spa := storedClient(t, dbURL, spaID)
	if spa.Type != clients.SPA || spa.SecretHash != nil || len(spa.WebOrigins) != 2 || spa.WebOrigins[1] != "https://app.example.com" {
		t.Fatalf("stored spa %+v; want public, two web origins split from one flag", spa)
	}

	r = gatehouse(ctx, vars, "", "clients", "create", "--name", "Portal", "--type", "web", "--client-id", "portal",
		"--callback", "https://portal.example.com/cb", "--callback", "https://portal.example.com/cb2")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || lines[0] != "portal" || !strings.HasPrefix(lines[1], "client_secret: ") ||
		!strings.Contains(r.stderr, "shown once") {
		t.Fatalf("create web: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	web := storedClient(t, dbURL, "portal")
	if !web.VerifySecret(strings.TrimPrefix(lines[1], "client_secret: ")) || len(web.Callbacks) != 2 {
		t.Fatalf("stored web client %+v does not verify the printed secret or lost a callback", web)
	}

	r = gatehouse(ctx, vars, "", "clients", "create", "--name", "Desktop", "--type", "native", "--client-id", "desktop",
		"--callback", "http://127.0.0.1/callback")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "desktop" || strings.Contains(r.stdout, "secret") {
		t.Fatalf("create native: exit %d, stdout %q, stderr %q; want its id and no secret", r.code, r.stdout, r.stderr)
	}
	if native := storedClient(t, dbURL, "desktop"); native.Type != clients.Native || native.SecretHash != nil || !native.Public() {
		t.Fatalf("stored native client %+v; want public, without a secret", native)
	}

	r = gatehouse(ctx, vars, "", "clients", "create", "--name", "Cron", "--type", "m2m")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], "client_secret: ") {
		t.Fatalf("create m2m: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = gatehouse(ctx, vars, "", "clients", "list")
	if r.code != 0 || !regexp.MustCompile(`(?m)^CLIENT ID\s+TYPE\s+NAME\s+CALLBACKS$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^portal\s+web\s+Portal\s+2$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^`+spaID+`\s+spa\s+React SPA\s+1$`).MatchString(r.stdout) {
		t.Fatalf("list: exit %d, stdout:\n%s", r.code, r.stdout)
	}

	r = gatehouse(ctx, vars, "", "clients", "update", "portal", "--callback", "https://new.example.com/cb", "--name", "New portal")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("update: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	updated := storedClient(t, dbURL, "portal")
	if updated.Name != "New portal" || len(updated.Callbacks) != 1 || updated.Callbacks[0] != "https://new.example.com/cb" ||
		string(updated.SecretHash) != string(web.SecretHash) {
		t.Fatalf("after update %+v; want the new name, only the new callback and the same secret", updated)
	}

	r = gatehouse(ctx, vars, "", "clients", "delete", "portal")
	if r.code != 0 {
		t.Fatalf("delete: exit %d, stderr %q", r.code, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "clients", "list")
	if r.code != 0 || strings.Contains(r.stdout, "portal") || !strings.Contains(r.stdout, spaID) {
		t.Fatalf("list after delete: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestClientsRefusals(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "clients", "create", "--name", "Taken", "--type", "spa",
		"--client-id", "taken", "--callback", "https://a.example.com/cb"); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.stderr)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"callback not https", []string{"create", "--name", "A", "--type", "spa", "--callback", "ftp://x"},
			`callbacks: "ftp://x" must be an https URL (http is allowed only for localhost)`},
		{"unknown type", []string{"create", "--name", "A", "--type", "desktop"}, `type: "desktop" is not a client type; use spa, native, web or m2m`},
		{"m2m with web origin", []string{"create", "--name", "A", "--type", "m2m", "--web-origin", "https://a.example.com"}, "web_origins: a machine-to-machine client"},
		{"web origin with path", []string{"create", "--name", "A", "--type", "spa", "--callback", "https://a.example.com/cb",
			"--web-origin", "https://a.example.com/"}, "web_origins: \"https://a.example.com/\" must be an origin"},
		{"bad client id", []string{"create", "--name", "A", "--type", "spa", "--callback", "https://a.example.com/cb", "--client-id", "a b"}, "client_id:"},
		{"duplicate client id", []string{"create", "--name", "A", "--type", "spa", "--callback", "https://a.example.com/cb", "--client-id", "taken"},
			`a client with the id "taken" already exists`},
		{"update with bad logout url", []string{"update", "taken", "--logout-url", "https://a.example.com/#x"}, "logout_urls:"},
		{"update unknown client", []string{"update", "nobody", "--name", "X"}, `no client has the id "nobody"`},
		{"delete unknown client", []string{"delete", "nobody"}, `no client has the id "nobody"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gatehouse(ctx, vars, "", append([]string{"clients"}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and one line containing %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

func TestAPIsCreateListDelete(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()

	r := gatehouse(ctx, vars, "", "apis", "create", "--identifier", "https://api.example.com", "--name", "Orders")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 36 {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "apis", "create", "--identifier", "billing", "--name", "Billing")
	if r.code != 1 || !strings.Contains(r.stderr, `identifier: "billing" must be an absolute URI`) {
		t.Fatalf("identifier not a URI: exit %d, stderr %q; want the rule the console and the admin API apply", r.code, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "apis", "create", "--identifier", "urn:example:billing", "--name", "Billing", "--token-lifetime", "90m")
	if r.code != 0 {
		t.Fatalf("create with lifetime: exit %d, stderr %q", r.code, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "apis", "create", "--identifier", "https://api.example.com", "--name", "Again")
	if r.code != 1 || !strings.Contains(r.stderr, `an API with the identifier "https://api.example.com" already exists`) {
		t.Fatalf("duplicate identifier: exit %d, stderr %q", r.code, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "apis", "create", "--identifier", "x", "--name", "X", "--token-lifetime", "10s")
	if r.code != 1 || !strings.Contains(r.stderr, "token_lifetime: must be between 1 minute and 30 days") {
		t.Fatalf("short lifetime: exit %d, stderr %q", r.code, r.stderr)
	}

	r = gatehouse(ctx, vars, "", "apis", "list")
	if r.code != 0 || !regexp.MustCompile(`(?m)^urn:example:billing\s+Billing\s+1h30m$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^https://api\.example\.com\s+Orders\s+24h$`).MatchString(r.stdout) {
		t.Fatalf("list: exit %d, stdout:\n%s", r.code, r.stdout)
	}

	if r = gatehouse(ctx, vars, "", "apis", "delete", "urn:example:billing"); r.code != 0 {
		t.Fatalf("delete: exit %d, stderr %q", r.code, r.stderr)
	}
	r = gatehouse(ctx, vars, "", "apis", "list")
	if r.code != 0 || strings.Contains(r.stdout, "billing") || !strings.Contains(r.stdout, "https://api.example.com") {
		t.Fatalf("list after delete: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	r = gatehouse(ctx, vars, "", "apis", "delete", "urn:example:billing")
	if r.code != 1 || !strings.Contains(r.stderr, `no API has the identifier "urn:example:billing"`) {
		t.Fatalf("delete again: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestClientsAndAPIsCommandLine(t *testing.T) {
	for _, args := range [][]string{{"clients", "--help"}, {"clients", "create", "--help"}, {"clients", "list", "--help"},
		{"clients", "update", "--help"}, {"clients", "rotate-secret", "--help"}, {"clients", "delete", "--help"}, {"apis", "update", "--help"}, {"apis", "--help"}, {"apis", "create", "--help"},
		{"apis", "list", "--help"}, {"apis", "delete", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := gatehouse(context.Background(), nil, "", args...)
			if r.code != 0 || !strings.Contains(r.stderr, "Usage: gatehouse "+strings.Join(args[:len(args)-1], " ")) {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
	mistakes := []struct {
		args []string
		want string
	}{
		{[]string{"clients"}, "Usage: gatehouse clients <command>"},
		{[]string{"clients", "rotate"}, `gatehouse clients: unknown subcommand "rotate" (use create, list, update, rotate-secret, delete, grant, revoke-grant, claims, branding)`},
		{[]string{"apis", "rename"}, `gatehouse apis: unknown subcommand "rename" (use create, list, update, delete, scopes, rbac)`},
		{[]string{"apis", "update"}, "the API identifier is required"},
		{[]string{"clients", "rotate-secret"}, "the client id is required"},
		{[]string{"clients", "create", "--type", "spa"}, "--name is required"},
		{[]string{"clients", "create", "--name", "A"}, "--type is required"},
		{[]string{"clients", "delete"}, "the client id is required"},
		{[]string{"clients", "delete", "a", "b"}, `unexpected argument "b"`},
		{[]string{"clients", "update", "--name", "X"}, "the client id is required"},
		{[]string{"apis", "create", "--name", "A"}, "--identifier is required"},
		{[]string{"apis", "create", "--identifier", "a", "--name", "A", "--token-lifetime", "a day"}, "invalid value"},
		{[]string{"apis", "delete"}, "the API identifier is required"},
	}
	for _, tt := range mistakes {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := gatehouse(context.Background(), nil, "", tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	r := gatehouse(context.Background(), nil, "", "clients", "list")
	if r.code != 2 || !strings.Contains(r.stderr, "DATABASE_URL is not set") {
		t.Fatalf("list without a database: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestClientsUpdateTakesTheIDAfterFlags(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "clients", "create", "--name", "A", "--type", "spa", "--client-id", "a",
		"--callback", "https://a.example.com/cb", "--web-origin", "https://a.example.com"); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "clients", "update", "--name", "B", "a", "--web-origin", ""); r.code != 0 {
		t.Fatalf("update: exit %d, stderr %q", r.code, r.stderr)
	}
	c := storedClient(t, dbURL, "a")
	if c.Name != "B" || c.WebOrigins != nil || len(c.Callbacks) != 1 {
		t.Fatalf("after update %+v; want name B, web origins cleared, callbacks kept", c)
	}
}

func storedClient(t *testing.T, dbURL, id string) clients.Client {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var c clients.Client
	var typ string
	err = conn.QueryRow(ctx, `select id, name, type, secret_hash, callbacks, logout_urls, web_origins from oauth_clients where id = $1`, id).
		Scan(&c.ID, &c.Name, &typ, &c.SecretHash, &c.Callbacks, &c.LogoutURLs, &c.WebOrigins)
	if err != nil {
		t.Fatalf("read client %s: %v", id, err)
	}
	c.Type = clients.Type(typ)
	if len(c.WebOrigins) == 0 {
		c.WebOrigins = nil
	}
	return c
}
