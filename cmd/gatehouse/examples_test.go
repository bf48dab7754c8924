package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
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

// TestSampleAPIAuthorisesByAPermissionFromARole is the RBAC journey of an
// Auth0 app, set up with the command line only: an API with RBAC and
// permissions in its tokens, a role holding one of its scopes, a user
// holding the role. The sample API's endpoint guarded by
// express-oauth2-jwt-bearer's claimIncludes('permissions', …) answers that
// user's token and refuses the token of a user without the role; the one
// guarded by requiredScopes(…) does the same through the scope claim.
func TestSampleAPIAuthorisesByAPermissionFromARole(t *testing.T) {
	skipWithoutPackages(t, sampleAPIDir)
	base, ca, vars := serveTLS(t)
	ctx := context.Background()
	const callback = "http://localhost:3000/callback"
	for _, args := range [][]string{
		{"apis", "create", "--identifier", sampleAudience, "--name", "Sample API"},
		{"apis", "scopes", sampleAudience, "--scope", "read:messages,write:messages"},
		{"apis", "rbac", sampleAudience, "--enforce=true", "--token-permissions=true"},
		{"roles", "create", "--name", "reader", "--description", "Reads messages"},
		{"roles", "permissions", "reader", "--api", sampleAudience, "--scope", "read:messages"},
	} {
		if r := gatehouse(ctx, vars, "", args...); r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
	}
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		if r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--email", email, "--password-stdin"); r.code != 0 {
			t.Fatalf("users create %s: %d %s", email, r.code, r.stderr)
		}
	}
	if r := gatehouse(ctx, vars, "", "roles", "assign", "reader", "--user", "ann@example.com"); r.code != 0 {
		t.Fatalf("roles assign: %d %s", r.code, r.stderr)
	}
	r := gatehouse(ctx, vars, "", "clients", "create", "--name", "App", "--type", "spa", "--callback", callback)
	if r.code != 0 {
		t.Fatalf("clients create: %d %s", r.code, r.stderr)
	}
	clientID := strings.Fields(r.stdout)[0]

	tokenOf := func(email string) string {
		t.Helper()
		return userAccessToken(t, trusting(t, ca), base, clientID, callback, email, "violet tractor meadow",
			url.Values{"audience": {sampleAudience}, "scope": {"openid profile read:messages write:messages"}})
	}
	ann, bob := tokenOf("ann@example.com"), tokenOf("bob@example.com")

	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "auth_config.json")
	if err := os.WriteFile(cfgPath, sampleConfigFor(u).JSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	apiBase := startSampleAPI(t, ca, "AUTH_CONFIG="+cfgPath)
	call := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", apiBase+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	// The library answers a failed claim check 401 invalid_token and a
	// missing scope 403 insufficient_scope.
	for path, refusal := range map[string]int{"/api/messages": http.StatusUnauthorized, "/api/messages/by-scope": http.StatusForbidden} {
		if status, body := call(path, ann); status != http.StatusOK {
			t.Errorf("%s with the token of a user holding the role: %d %s", path, status, body)
		}
		if status, body := call(path, bob); status != refusal {
			t.Errorf("%s with the token of a user without it: %d %s, want %d", path, status, body, refusal)
		}
	}
}

// userAccessToken logs a user in through the authorization code flow with
// PKCE, as a browser and a public client would, and returns the access
// token.
func userAccessToken(t *testing.T, c *http.Client, base, clientID, callback, email, password string, extra url.Values) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := *c
	b.Jar = jar
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"state": {"state-" + verifier[:12]}, "nonce": {verifier[:16]}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	next := base + "authorize?" + q.Encode()
	var code string
	for step := 0; step < 10 && code == ""; step++ {
		resp, err := b.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
			loc, err := resp.Location()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(loc.String(), callback) {
				if code = loc.Query().Get("code"); code == "" {
					t.Fatalf("the callback carries no code: %s", loc)
				}
				break
			}
			next = loc.String()
		case resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/login":
			form := url.Values{"email": {email}, "password": {password}, "return_to": {resp.Request.URL.Query().Get("return_to")}}
			post, err := b.PostForm(base+"login", form)
			if err != nil {
				t.Fatal(err)
			}
			post.Body.Close()
			loc, err := post.Location()
			if err != nil {
				t.Fatalf("login as %s: %d, no redirect", email, post.StatusCode)
			}
			next = loc.String()
		default:
			t.Fatalf("GET %s: %d", next, resp.StatusCode)
		}
	}
	if code == "" {
		t.Fatal("the login did not come back to the callback")
	}
	resp, err := c.PostForm(base+"oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("code exchange: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}
