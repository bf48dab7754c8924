package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The sample app and API in examples/; scripts/test.sh installs their
// packages with npm ci.
const (
	sampleSPADir = "../../examples/react-spa"
	sampleAPIDir = "../../examples/api"
)

// skipWithoutPackages skips the test when Node or an example's installed
// packages are missing, saying how to get them.
func skipWithoutPackages(t *testing.T, dir string) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: the examples need Node.js 18 or later", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Skipf("%s has no node_modules: run `npm ci --prefix %s` (scripts/test.sh does)", dir, strings.TrimPrefix(dir, "../../"))
	}
}

// TestSampleSPABuilds builds the React sample with its pinned packages, into
// a temporary directory so the checkout stays clean.
func TestSampleSPABuilds(t *testing.T) {
	skipWithoutPackages(t, sampleSPADir)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "run", "build", "--", "--outDir", out, "--emptyOutDir")
	cmd.Dir = sampleSPADir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Fatalf("the build wrote no index.html: %v", err)
	}
}

// lockedBuffer collects a child process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSampleAPIAcceptsGatehouseTokens runs examples/api, whose checks are
// express-oauth2-jwt-bearer's, against Gatehouse over HTTPS with a private CA:
// the library discovers the issuer (with its trailing slash), fetches the
// JWKS, verifies RS256 and the audience, and so accepts a real access token
// and refuses one for another API.
func TestSampleAPIAcceptsGatehouseTokens(t *testing.T) {
	skipWithoutPackages(t, sampleAPIDir)
	base, ca, vars := serveTLS(t)
	ctx := context.Background()
	for _, api := range []string{sampleAudience, "https://other-api.example"} {
		if r := gatehouse(ctx, vars, "", "apis", "create", "--identifier", api, "--name", "API "+api); r.code != 0 {
			t.Fatalf("apis create: %d %s", r.code, r.stderr)
		}
	}
	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "Tester", "--type", "m2m")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("clients create: %d %q %s", r.code, r.stdout, r.stderr)
	}
	clientID, secret := lines[0], strings.TrimPrefix(lines[1], "client_secret: ")
	https := trusting(t, ca)
	token := func(audience string) string {
		t.Helper()
		resp, err := https.PostForm(base+"oauth/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {clientID}, "client_secret": {secret}, "audience": {audience}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
			t.Fatalf("client credentials for %s: %d", audience, resp.StatusCode)
		}
		return body.AccessToken
	}
	good, other := token(sampleAudience), token("https://other-api.example")

	// The same config file the SPA reads, as gatehouse dev writes it: a bare
	// host:port means https, as Auth0's domains do.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "auth_config.json")
	cfg := sampleConfigFor(u)
	if cfg.Domain != u.Host {
		t.Fatalf("sample config domain %q, want the bare %q", cfg.Domain, u.Host)
	}
	if err := os.WriteFile(cfgPath, cfg.JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	apiBase := startSampleAPI(t, ca, "AUTH_CONFIG="+cfgPath)
	// As docker-compose.yml runs it: the issuer and the keys' address given
	// apart, no config file.
	composeBase := startSampleAPI(t, ca, "AUTH_CONFIG="+filepath.Join(t.TempDir(), "none.json"),
		"ISSUER_BASE_URL="+base, "AUDIENCE="+sampleAudience, "JWKS_URI="+base+".well-known/jwks.json")

	call := func(apiBase, token string) (int, map[string]any, http.Header) {
		t.Helper()
		req, err := http.NewRequest("GET", apiBase+"/api/external", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", sampleOrigin)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body, resp.Header
	}
	for _, apiBase := range []string{apiBase, composeBase} {
		status, body, header := call(apiBase, good)
		if status != http.StatusOK || body["msg"] != "Your access token was successfully validated!" {
			t.Fatalf("a Gatehouse token for the API: %d %v", status, body)
		}
		if header.Get("Access-Control-Allow-Origin") != sampleOrigin {
			t.Fatalf("CORS allows %q, want the SPA's origin", header.Get("Access-Control-Allow-Origin"))
		}
		for name, tok := range map[string]string{"no token": "", "a token for another API": other, "a tampered token": good[:len(good)-4] + "AAAA"} {
			if status, body, _ := call(apiBase, tok); status != http.StatusUnauthorized {
				t.Errorf("%s: %d %v, want 401", name, status, body)
			}
		}
	}
}

// startSampleAPI runs examples/api on a free loopback port with the given
// environment entries, trusting ca, and returns its base URL once it answers.
func startSampleAPI(t *testing.T, ca string, env ...string) string {
	t.Helper()
	return startSampleAPIOn(t, ca, freePort(t), env...)
}

// startSampleAPIOn is startSampleAPI on a port of the caller's, for an app
// built to call it there.
func startSampleAPIOn(t *testing.T, ca, port string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "server.js")
	cmd.Dir = sampleAPIDir
	cmd.Env = append(os.Environ(), "API_PORT="+port, "API_HOST=127.0.0.1", "NODE_EXTRA_CA_CERTS="+ca, "APP_ORIGIN="+sampleOrigin)
	cmd.Env = append(cmd.Env, env...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("examples/api output:\n%s", out.String())
		}
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("examples/api exited early (%v):\n%s", exitErr, out.String())
		default:
		}
		if resp, err := http.Get(base + "/api/external"); err == nil {
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			return base
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("examples/api did not answer within 30s:\n%s", out.String())
	return ""
}

// TestSampleSPAServesHTTPSWithTheCertificateItIsGiven loads the sample's Vite
// config as Vite does: with SAMPLE_TLS_CERT and SAMPLE_TLS_KEY, as
// scripts/sample.sh sets them, the dev server and preview serve HTTPS with
// those files; without them, plain HTTP.
func TestSampleSPAServesHTTPSWithTheCertificateItIsGiven(t *testing.T) {
	skipWithoutPackages(t, sampleSPADir)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "app.pem"), filepath.Join(dir, "app-key.pem")
	if err := os.WriteFile(cert, []byte("the certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("the key"), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `const { default: c } = await import(new URL('vite.config.js', 'file://' + process.cwd() + '/'));
const tls = (o) => o.https ? { cert: String(o.https.cert), key: String(o.https.key) } : null;
console.log(JSON.stringify({ server: tls(c.server), preview: tls(c.preview) }));`
	load := func(env ...string) string {
		t.Helper()
		cmd := exec.Command("node", "--input-type=module", "-e", script)
		cmd.Dir = sampleSPADir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("load vite.config.js: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	tls := `{"cert":"the certificate","key":"the key"}`
	if got, want := load("SAMPLE_TLS_CERT="+cert, "SAMPLE_TLS_KEY="+key), `{"server":`+tls+`,"preview":`+tls+`}`; got != want {
		t.Errorf("with a certificate: %s, want %s", got, want)
	}
	if got, want := load("SAMPLE_TLS_CERT=", "SAMPLE_TLS_KEY="), `{"server":null,"preview":null}`; got != want {
		t.Errorf("without one: %s, want %s", got, want)
	}
}
