package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func openTestStore(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL, store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func TestClientsRotateSecretPrintsANewSecretOnce(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "Cron", "--type", "m2m", "--client-id", "cron")
	if r.code != 0 {
		t.Fatalf("create cron: exit %d, stderr %q", r.code, r.stderr)
	}
	old := strings.TrimPrefix(strings.Split(strings.TrimSpace(r.stdout), "\n")[1], "client_secret: ")

	r = gatehouse(ctx, vars, "", "clients", "rotate-secret", "cron")
	fresh, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "client_secret: ")
	if r.code != 0 || !ok || fresh == old || !strings.Contains(r.stderr, "shown once") {
		t.Fatalf("rotate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	st := openTestStore(t, dbURL)
	c, err := st.ClientByID(ctx, "cron")
	if err != nil {
		t.Fatalf("reading cron back: %v", err)
	}
	if !c.VerifySecret(fresh) || c.VerifySecret(old) {
		t.Fatal("after rotation the new secret must verify and the old one must not")
	}
	events, err := st.AuditEvents(ctx, store.AuditFilter{Type: "admin.client_secret_rotated"})
	if err != nil {
		t.Fatalf("reading the audit log: %v", err)
	}
	if len(events) != 1 || !strings.Contains(events[0].Details, `"by": "cli:`) || strings.Contains(events[0].Details, fresh) {
		t.Errorf("audit: %+v", events)
	}

	if r := gatehouse(ctx, vars, "", "clients", "create", "--name", "SPA", "--type", "spa", "--client-id", "spa"); r.code != 0 {
		t.Fatalf("create spa: exit %d, stderr %q", r.code, r.stderr)
	}
	for args, want := range map[string]string{
		"spa":           "public and has no secret",
		"nobody":        `no client has the id "nobody"`,
		"gatehouse-try": `no client has the id "gatehouse-try"`,
	} {
		if r := gatehouse(ctx, vars, "", "clients", "rotate-secret", args); r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("rotate-secret %s: exit %d, stderr %q, want %q", args, r.code, r.stderr, want)
		}
	}
}

func TestClientsUpdateSetsAndClearsLifetimes(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "clients", "create", "--name", "SPA", "--type", "spa", "--client-id", "spa", "--callback", "https://a.example.com/cb"); r.code != 0 {
		t.Fatalf("create spa: exit %d, stderr %q", r.code, r.stderr)
	}
	r := gatehouse(ctx, vars, "", "clients", "update", "spa", "--id-token-lifetime", "10m", "--refresh-absolute-lifetime", "7d")
	if r.code != 0 {
		t.Fatalf("update: exit %d, stderr %q", r.code, r.stderr)
	}
	st := openTestStore(t, dbURL)
	c, err := st.ClientByID(ctx, "spa")
	if err != nil {
		t.Fatalf("reading spa back: %v", err)
	}
	if c.Lifetimes != (clients.Lifetimes{IDToken: 10 * time.Minute, RefreshAbsolute: 7 * 24 * time.Hour}) {
		t.Fatalf("lifetimes %+v", c.Lifetimes)
	}
	if r := gatehouse(ctx, vars, "", "clients", "update", "spa", "--id-token-lifetime", "default"); r.code != 0 {
		t.Fatalf("update to default: exit %d, stderr %q", r.code, r.stderr)
	}
	if c, err = st.ClientByID(ctx, "spa"); err != nil || c.Lifetimes != (clients.Lifetimes{RefreshAbsolute: 7 * 24 * time.Hour}) {
		t.Fatalf("after default %+v, %v", c.Lifetimes, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--id-token-lifetime", "5s"}, "id_token_lifetime: must be between 1 minute"},
		{[]string{"--refresh-idle-lifetime", "soon"}, "refresh_idle_lifetime: \"soon\" is not a duration"},
		{[]string{"--refresh-idle-lifetime", "30d"}, "refresh_idle_lifetime: must not be longer than the absolute lifetime"},
	} {
		if r := gatehouse(ctx, vars, "", append([]string{"clients", "update", "spa"}, tt.args...)...); r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func TestAPIsUpdateChangesNameAndLifetime(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "apis", "create", "--identifier", "https://api.example.com", "--name", "Orders"); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "apis", "update", "https://api.example.com", "--name", "Orders v2", "--token-lifetime", "2h"); r.code != 0 {
		t.Fatalf("update: exit %d, stderr %q", r.code, r.stderr)
	}
	a, err := openTestStore(t, dbURL).APIByIdentifier(ctx, "https://api.example.com")
	if err != nil || a.Name != "Orders v2" || a.TokenLifetime != 2*time.Hour {
		t.Fatalf("after update %+v (%v)", a, err)
	}
	if r := gatehouse(ctx, vars, "", "apis", "update", "https://api.example.com", "--token-lifetime", "31d"); r.code != 1 ||
		!strings.Contains(r.stderr, "token_lifetime: must be between 1 minute and 30 days") {
		t.Errorf("too long: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "apis", "update", "https://nope.example.com", "--name", "X"); r.code != 1 ||
		!strings.Contains(r.stderr, `no API has the identifier "https://nope.example.com"`) {
		t.Errorf("unknown: exit %d, stderr %q", r.code, r.stderr)
	}
}
