package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsInACheckoutUseTheDevDatabase runs dev as the README does, in
// the directory it keeps ./var in, then the command line there without
// DATABASE_URL or GATEHOUSE_SECRET_KEY, while dev runs and after it stopped.
func TestCommandsInACheckoutUseTheDevDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own Postgres cluster")
	}
	dir := t.TempDir()
	// As root the cluster runs as the postgres user, which must reach
	// ./var/postgres, or dev puts it under /var/tmp, where it would outlive
	// the test.
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	clusterDir := filepath.Join(dir, "var", "postgres")

	port := freePort(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan result, 1)
	go func() { done <- gatehouse(ctx, nil, "", "dev", "--http", "--addr", "127.0.0.1:"+port) }()
	base := "http://127.0.0.1:" + port + "/"
	waitReady(t, base+"readyz", done)

	// --addr alone moves the issuer, so discovery points where dev listens.
	var discovery struct{ Issuer, TokenEndpoint string }
	if err := json.Unmarshal([]byte(get(t, base+".well-known/openid-configuration")), &discovery); err != nil {
		t.Fatal(err)
	}
	if want := "http://localhost:" + port + "/"; discovery.Issuer != want {
		t.Fatalf("dev --addr 127.0.0.1:%s: issuer %q, want %q", port, discovery.Issuer, want)
	}

	r := gatehouse(context.Background(), nil, "", "policy", "set", "always")
	if r.code != 0 || r.stdout != "MFA policy: always\n" {
		t.Fatalf("policy set while dev runs: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if want := "using the dev database in " + clusterDir + " (gatehouse dev's, running)"; strings.Count(r.stderr, "dev database") != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("policy set says %q; want one line saying %q", r.stderr, want)
	}
	// dev's key comes along: a secret setting can be sealed.
	if r := gatehouse(context.Background(), nil, "", "settings", "set", "plivo_auth_token", "tok-secret-000000001"); r.code != 0 {
		t.Fatalf("secret setting with dev's key: exit %d, stderr %s", r.code, r.stderr)
	}
	stop()
	if r := <-done; r.code != 0 {
		t.Fatalf("dev: exit %d\nstderr %s", r.code, r.stderr)
	}

	r = gatehouse(context.Background(), nil, "", "policy", "show")
	if r.code != 0 || r.stdout != "always\n" || !strings.Contains(r.stderr, "(started for this command, stopped after it)") {
		t.Fatalf("policy show after dev stopped: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(clusterDir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("the command left the dev cluster running (postmaster.pid: %v)", err)
	}

	// Either variable set means another database: dev's is not guessed at.
	r = gatehouse(context.Background(), map[string]string{"GATEHOUSE_SECRET_KEY": testKey}, "", "policy", "show")
	if r.code != 2 || !strings.Contains(r.stderr, "DATABASE_URL is not set") {
		t.Fatalf("policy show with only a key set: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestFindDevClusterLooksUnderVarTmpToo: as root, dev puts a cluster the
// postgres user cannot reach in the checkout under /var/tmp; the command line
// must find it there.
func TestFindDevClusterLooksUnderVarTmpToo(t *testing.T) {
	varDir := filepath.Join(t.TempDir(), "var")
	if _, ok := findDevCluster(varDir); ok {
		t.Fatal("found a cluster where dev made none")
	}
	_, fallback, err := devClusterDirs(varDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(fallback, 0o700); err != nil {
		t.Skipf("cannot make %s: %v", fallback, err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(fallback); err != nil {
			t.Fatal(err)
		}
	})
	if err := os.WriteFile(filepath.Join(fallback, "PG_VERSION"), []byte("17\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if dir, ok := findDevCluster(varDir); !ok || dir != fallback {
		t.Fatalf("findDevCluster: %q %v, want %q", dir, ok, fallback)
	}
}
