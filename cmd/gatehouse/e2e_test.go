package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/pgcluster"
)

// The browser journeys (e2e/browser) drive Debian's Chromium through the
// sample app, Gatehouse and the sample API. scripts/test.sh installs what they
// need and sets GATEHOUSE_E2E=required, so there a missing piece fails the
// test; elsewhere it skips and says what is missing.
const browserJourneysDir = "../../e2e/browser"

// browserPrerequisites returns the Chromium to run, or why the journeys
// cannot run.
func browserPrerequisites() (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not on PATH: the browser journeys need Node.js 18 or later", tool)
		}
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		return "", fmt.Errorf("no Chromium at %s: install Debian's chromium (scripts/ensure-browser.sh does) or set CHROMIUM", chromium)
	}
	for _, dir := range []string{browserJourneysDir, sampleSPADir, sampleAPIDir} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
			return "", fmt.Errorf("%s has no node_modules: run `npm ci --prefix %s` (scripts/test.sh does)", dir, strings.TrimPrefix(dir, "../../"))
		}
	}
	return chromium, nil
}

// TestBrowserJourneys runs `gatehouse dev` over HTTPS as the README does
// (its own Postgres, CA and console SMS sender, policy always), serves a
// build of the sample app, starts the sample API, and runs each journey of
// e2e/browser as a subtest, in an order where each finds the policy it needs.
func TestBrowserJourneys(t *testing.T) {
	chromium, err := browserPrerequisites()
	if err != nil {
		if os.Getenv("GATEHOUSE_E2E") == "required" {
			t.Fatalf("GATEHOUSE_E2E=required, but %v", err)
		}
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("starts Gatehouse, its own Postgres cluster and a browser")
	}
	artifacts := os.Getenv("GATEHOUSE_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "gatehouse-e2e-")
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser artifacts (screenshots, HTML of failed steps): %s", artifacts)

	varDir := filepath.Join(t.TempDir(), "var")
	// The cluster runs as the postgres user when the test runs as root; it
	// must be able to reach its data directory, which this test opens too.
	if err := os.Chmod(filepath.Dir(filepath.Dir(varDir)), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(varDir), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(varDir, 0o711); err != nil {
		t.Fatal(err)
	}
	gatehousePort, appPort := freePort(t), freePort(t)
	issuer := "https://localhost:" + gatehousePort + "/"
	// Plain HTTP, as the sample runs on http://localhost:3000: the app and
	// Gatehouse are then different sites, so the silent-login iframe needs
	// the SameSite=None session cookie, as it does for a developer.
	appOrigin := "http://localhost:" + appPort
	// The same app as gatehouse dev configures it, with refresh tokens in
	// localStorage, for the journey whose browser blocks third-party cookies.
	// The other journeys keep the silent-login iframe, which a production
	// app on a sibling subdomain relies on.
	refreshPort := freePort(t)
	refreshOrigin := "http://localhost:" + refreshPort

	// The app's builds are the slow part; they run while dev starts.
	dist, refreshDist := t.TempDir(), t.TempDir()
	apiPort := freePort(t)
	apiOrigin := "http://localhost:" + apiPort
	built := make(chan error, 2)
	go func() { built <- buildSampleApp(dist, gatehousePort, apiOrigin) }()
	go func() {
		built <- buildSampleApp(refreshDist, gatehousePort, apiOrigin,
			"VITE_AUTH_USE_REFRESH_TOKENS=true", "VITE_AUTH_CACHE_LOCATION=localstorage")
	}()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- gatehouse(ctx, map[string]string{"GATEHOUSE_ADDR": "127.0.0.1:" + gatehousePort, "GATEHOUSE_ISSUER": issuer},
			"", "dev", "--var", varDir, "--mfa-policy", "always")
	}()
	t.Cleanup(func() {
		stop()
		select {
		case r := <-done:
			if r.code != 0 || t.Failed() {
				t.Logf("gatehouse dev: exit %d\nstderr (tail):\n%s", r.code, tail(r.stderr, 4000))
			}
		case <-time.After(30 * time.Second):
			t.Error("gatehouse dev did not stop within 30s of its context ending")
		}
	})
	ca := filepath.Join(varDir, "tls", "ca.pem")
	waitForFile(t, ca, done)
	waitReadyWith(t, trusting(t, ca), issuer+"readyz", done)

	// The same database dev uses: adopting its running cluster gives the
	// URL, so the command line can prepare what the journeys need.
	cluster, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(varDir, "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(varDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": cluster.URL(devDatabase), "GATEHOUSE_SECRET_KEY": strings.TrimSpace(string(key))}
	cli := func(stdin string, args ...string) {
		t.Helper()
		if r := gatehouse(context.Background(), vars, stdin, args...); r.code != 0 {
			t.Fatalf("gatehouse %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	// The apps run on free ports rather than the seeded 3000, which another
	// program may hold; their client is told so.
	cli("", "clients", "update", sampleClientID,
		"--callback", appOrigin, "--callback", appOrigin+"/", "--callback", refreshOrigin, "--callback", refreshOrigin+"/",
		"--logout-url", appOrigin, "--logout-url", appOrigin+"/", "--logout-url", refreshOrigin, "--logout-url", refreshOrigin+"/",
		"--web-origin", appOrigin, "--web-origin", refreshOrigin)
	// Every journey comes from 127.0.0.1 and a few reuse a phone within
	// minutes, more often than the anti-fraud limits allow a person.
	cli("", "settings", "set", "sms_limit_ip_hour", "0", "sms_limit_phone_10m", "0")
	errorsEmail, errorsPassword := "e2e-errors@example.com", "violet tractor meadow"
	cli(errorsPassword+"\n", "users", "create", "--email", errorsEmail, "--password-stdin",
		"--phone", fmt.Sprintf("+447400%06d", time.Now().UnixNano()%1_000_000))

	for range 2 {
		if err := <-built; err != nil {
			t.Fatal(err)
		}
	}
	serveApp(t, dist, "127.0.0.1:"+appPort)
	serveApp(t, refreshDist, "127.0.0.1:"+refreshPort)
	startSampleAPIOn(t, ca, apiPort, "APP_ORIGIN="+appOrigin, "AUTH_CONFIG="+filepath.Join(t.TempDir(), "none.json"),
		"ISSUER_BASE_URL="+issuer, "AUDIENCE="+sampleAudience)

	journeys := []string{"signup-mfa-api-logout", "errors", "admin-switches-policy", "passkeys", "phone-sized-screens", "reload-without-third-party-cookies", "french-ui-locales", "branding"}
	for _, journey := range journeys {
		t.Run(journey, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "journeys.mjs", journey)
			cmd.Dir = browserJourneysDir
			cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+issuer, "APP_URL="+appOrigin, "REFRESH_APP_URL="+refreshOrigin,
				"ARTIFACTS_DIR="+artifacts,
				"CHROMIUM="+chromium, "NODE_EXTRA_CA_CERTS="+ca,
				"E2E_ERRORS_EMAIL="+errorsEmail, "E2E_ERRORS_PASSWORD="+errorsPassword)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("journey %s: %v (artifacts in %s)\n%s", journey, err, artifacts, out)
			}
			t.Logf("%s", out)
		})
	}
}

// buildSampleApp builds examples/react-spa into dist for a Gatehouse on
// localhost:port and an API at apiOrigin, through the environment variables
// that win over src/auth_config.json, so the checkout is left as it is;
// settings are more of them.
func buildSampleApp(dist, port, apiOrigin string, settings ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "run", "build", "--", "--outDir", dist, "--emptyOutDir")
	cmd.Dir = sampleSPADir
	cmd.Env = append(os.Environ(), "VITE_AUTH_DOMAIN=localhost:"+port, "VITE_AUTH_CLIENT_ID="+sampleClientID,
		"VITE_AUTH_AUDIENCE="+sampleAudience, "VITE_API_ORIGIN="+apiOrigin)
	cmd.Env = append(cmd.Env, settings...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm run build: %v\n%s", err, b)
	}
	return nil
}

// serveApp serves the built app at addr as a static host for an SPA does:
// files as they are, any other path as index.html so the router handles it.
func serveApp(t *testing.T, dist, addr string) {
	t.Helper()
	files := http.FileServer(http.Dir(dist))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(dist, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))); errors.Is(err, os.ErrNotExist) {
			http.ServeFile(w, r, filepath.Join(dist, "index.html"))
			return
		}
		files.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
