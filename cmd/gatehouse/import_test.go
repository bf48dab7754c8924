package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// An Auth0 tenant's users come over with their passwords and phones; bad
// lines are reported one by one and do not stop the rest.
func TestImportAuth0Export(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("violet tractor meadow"), 4)
	if err != nil {
		t.Fatal(err)
	}
	export := strings.Join([]string{
		`{"user_id":"auth0|1","email":"ann@example.com","email_verified":true,"name":"Ann Lee","created_at":"2024-03-01T10:00:00Z","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"` + string(hash) + `"}},"mfa_factors":[{"phone":{"value":"+447911123456"}}],"user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro"}}`,
		`{"user_id":"auth0|2","email":"bob@example.com","given_name":"Bob","passwordHash":"$2b$10$short"}`,
		`{"user_id":"auth0|3","email":"not an address"}`,
		`{broken`,
		`{"user_id":"auth0|4","email":"cy@example.com","authentication_methods":[{"type":"phone","phone_number":"+19005550100","confirmed":true}]}`,
	}, "\n")
	path := filepath.Join(t.TempDir(), "users.ndjson")
	if err := os.WriteFile(path, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := storetest.NewEmptyDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "GATEHOUSE_SECRET_KEY": testKey}

	r := gatehouse(context.Background(), vars, "", "import", "auth0", path)
	if r.code != 1 || !strings.Contains(r.stdout, "2 imported, 0 already registered, 3 failed; 1 phones enrolled, 1 phones refused") {
		t.Fatalf("first import: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"line 2: bob@example.com: ", "line 3: not an address: ", "line 4: not a JSON object",
		`line 5: cy@example.com imported, but the phone "+19005550100" was not enrolled`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	// A second run skips what the first imported.
	r = gatehouse(context.Background(), vars, "", "import", "auth0", path)
	if !strings.Contains(r.stdout, "0 imported, 2 already registered, 3 failed") {
		t.Errorf("second import: %s", r.stdout)
	}

	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var verified bool
	var created time.Time
	var factors int
	var subject, plan, theme string
	if err := conn.QueryRow(context.Background(), `select email_verified, created_at, (select count(*) from mfa_factors f where f.user_id = u.id),
			subject, app_metadata->>'plan', user_metadata->>'theme'
		from users u where email = 'ann@example.com'`).Scan(&verified, &created, &factors, &subject, &plan, &theme); err != nil {
		t.Fatal(err)
	}
	if !verified || !created.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) || factors != 1 {
		t.Errorf("ann: verified %v, created %v, factors %d", verified, created, factors)
	}
	if subject != "auth0|1" || plan != "pro" || theme != "dark" {
		t.Errorf("ann: subject %q, app_metadata.plan %q, user_metadata.theme %q; want her Auth0 id and metadata", subject, plan, theme)
	}

	// The operator finds her by her Auth0 id.
	r = gatehouse(context.Background(), vars, "", "users", "list", "--query", "auth0|1")
	if r.code != 0 || !strings.Contains(r.stdout, "ann@example.com") || strings.Contains(r.stdout, "cy@example.com") ||
		!strings.Contains(r.stdout, "auth0|1") {
		t.Errorf("users list --query auth0|1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Ann logs in with her Auth0 password.
	addr := "127.0.0.1:" + freePort(t)
	vars["GATEHOUSE_ADDR"], vars["GATEHOUSE_ISSUER"] = addr, "http://"+addr+"/"
	withConsoleDelivery(vars)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- gatehouse(ctx, vars, "", "serve") }()
	defer func() { stop(); <-done }()
	waitReady(t, "http://"+addr+"/readyz", done)
	resp, err := noRedirects.PostForm("http://"+addr+"/login", url.Values{"email": {"ann@example.com"}, "password": {"violet tractor meadow"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("login with the imported password: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var hashNow string
	if err := conn.QueryRow(context.Background(), `select password_hash from users where email = 'ann@example.com'`).Scan(&hashNow); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hashNow, "$argon2id$") {
		t.Errorf("the bcrypt hash was not replaced at login: %.10s…", hashNow)
	}
}
