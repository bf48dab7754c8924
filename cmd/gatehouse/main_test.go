package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes

// consoleDelivery is the explicit choice serve needs to send SMS and mail
// only to its log, as tests do.
var consoleDelivery = map[string]string{"GATEHOUSE_SMS_PROVIDER": "console", "GATEHOUSE_MAIL": "console"}

// withConsoleDelivery adds consoleDelivery to vars.
func withConsoleDelivery(vars map[string]string) map[string]string {
	for k, v := range consoleDelivery {
		vars[k] = v
	}
	return vars
}

type result struct {
	code           int
	stdout, stderr string
}

// gatehouse runs the command line in-process with the given environment.
func gatehouse(ctx context.Context, vars map[string]string, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	code := run(ctx, args, env{
		getenv: func(k string) string { return vars[k] },
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
	})
	return result{code, out.String(), errOut.String()}
}

func TestBadConfigurationStopsStartWithOneClearLine(t *testing.T) {
	valid := map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db", "GATEHOUSE_SECRET_KEY": testKey}
	for k, v := range consoleDelivery {
		valid[k] = v
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range valid {
			m[a] = b
		}
		m[k] = v
		return m
	}
	with2 := func(k1, v1, k2, v2 string) map[string]string {
		m := with(k1, v1)
		m[k2] = v2
		return m
	}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no database", with("DATABASE_URL", ""), nil, "DATABASE_URL is not set; set it to a Postgres URL"},
		{"database not a URL", with("DATABASE_URL", "mysql://x"), nil, "DATABASE_URL is not a postgres:// URL"},
		{"no secret key", with("GATEHOUSE_SECRET_KEY", ""), nil, "GATEHOUSE_SECRET_KEY is not set; set it to 32 random bytes in base64"},
		{"secret key not base64", with("GATEHOUSE_SECRET_KEY", "!!!"), nil, "GATEHOUSE_SECRET_KEY is not valid base64"},
		{"secret key too short", with("GATEHOUSE_SECRET_KEY", "c2hvcnQ="), nil, "GATEHOUSE_SECRET_KEY decodes to 5 bytes, not 32"},
		{"issuer without slash", with("GATEHOUSE_ISSUER", "https://id.example.com"), nil, `GATEHOUSE_ISSUER "https://id.example.com" does not end in /`},
		{"issuer not http", with("GATEHOUSE_ISSUER", "ftp://id.example.com/"), nil, "is not http or https"},
		{"address without port", with("GATEHOUSE_ADDR", "localhost"), nil, `GATEHOUSE_ADDR "localhost" is not host:port`},
		{"proxy not a CIDR", with("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8,nope"), nil, `GATEHOUSE_TRUSTED_PROXIES has "nope", which is not a CIDR`},
		{"remembering longer than 90 days", with("GATEHOUSE_REMEMBER_BROWSER_FOR", "2400h"), nil, `GATEHOUSE_REMEMBER_BROWSER_FOR "2400h" is not a duration between 0 and 2160h`},
		{"adaptive medium not a boolean", with("GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM", "maybe"), nil, `GATEHOUSE_ADAPTIVE_CHALLENGE_MEDIUM "maybe" is not true or false`},
		{"no SMS provider chosen", with("GATEHOUSE_SMS_PROVIDER", ""), nil,
			"GATEHOUSE_SMS_PROVIDER is not set; set it to plivo or webhook (with their settings), or to console to only write the codes to the log"},
		{"no mail delivery chosen", with("GATEHOUSE_MAIL", ""), nil,
			"GATEHOUSE_SMTP_URL is not set; set it to smtp://user:pass@host:587"},
		{"mail delivery that does not exist", with("GATEHOUSE_MAIL", "sendmail"), nil, `GATEHOUSE_MAIL "sendmail" is not smtp or console`},
		{"console mail and an SMTP relay at once", with2("GATEHOUSE_SMTP_URL", "smtp://u:p@mail.example.com:587", "GATEHOUSE_MAIL_FROM", "login@example.com"), nil,
			"GATEHOUSE_MAIL is console but GATEHOUSE_SMTP_URL is set"},
		{"smtp URL with another scheme", with("GATEHOUSE_SMTP_URL", "http://mail.example.com"), nil, `GATEHOUSE_SMTP_URL has scheme "http", not smtp or smtps`},
		{"smtp URL with an unknown starttls", with("GATEHOUSE_SMTP_URL", "smtp://mail.example.com?starttls=maybe"), nil, `GATEHOUSE_SMTP_URL has starttls="maybe"`},
		{"smtp URL without a sender", with("GATEHOUSE_SMTP_URL", "smtp://u:p@mail.example.com:587"), nil, "GATEHOUSE_MAIL_FROM is not set but GATEHOUSE_SMTP_URL is"},
		{"sender not an address", with("GATEHOUSE_MAIL_FROM", "not an address"), nil, `GATEHOUSE_MAIL_FROM "not an address" is not an email address`},
		{"profiles on a public address", with("GATEHOUSE_PPROF_ADDR", "0.0.0.0:6060"), nil, `GATEHOUSE_PPROF_ADDR "0.0.0.0:6060" is not a loopback address`},
		{"metrics address without port", with("GATEHOUSE_METRICS_ADDR", "metrics.internal"), nil, `GATEHOUSE_METRICS_ADDR "metrics.internal" is not host:port`},
		{"a bad flag value names the flag", valid, []string{"--issuer", "no-scheme/"}, `--issuer "no-scheme/" is not an absolute URL`},
		{"TLS certificate without its key", with("GATEHOUSE_TLS_CERT", "/etc/ssl/cert.pem"), nil, "GATEHOUSE_TLS_KEY is not set but GATEHOUSE_TLS_CERT is"},
		{"TLS key without its certificate", with("GATEHOUSE_TLS_KEY", "/etc/ssl/key.pem"), nil, "GATEHOUSE_TLS_CERT is not set but GATEHOUSE_TLS_KEY is"},
		{"TLS files that do not exist", with2("GATEHOUSE_TLS_CERT", "/nonexistent/cert.pem", "GATEHOUSE_TLS_KEY", "/nonexistent/key.pem"), nil, "GATEHOUSE_TLS_CERT cannot be used: open /nonexistent/cert.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gatehouse(context.Background(), tt.vars, "", append([]string{"serve"}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("stderr %q, want one line containing %q", r.stderr, tt.want)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"dev", "--help"},
		{"users", "--help"}, {"users", "create", "--help"}, {"version", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := gatehouse(context.Background(), nil, "", args...)
			if r.code != 0 || !strings.Contains(r.stderr, "Usage: gatehouse") {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

func TestCommandLineMistakes(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"migrate", "extra"}, `unexpected argument "extra"`},
		{[]string{"users", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"users", "delete", "--email", "ann@example.com"}, "add --yes to confirm"},
		{[]string{"users", "create"}, "--email is required"},
		{[]string{"dev", "--mfa-policy", "sometimes"}, `--mfa-policy "sometimes" is not a policy; use never, adaptive or always`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := gatehouse(context.Background(), nil, "", tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := gatehouse(context.Background(), nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "gatehouse dev (") {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
}

func TestTwoMigrateRunsAtOnceBothSucceed(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewEmptyDatabase(t)}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = gatehouse(context.Background(), vars, "", "migrate")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != "migrations applied\n" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
		}
	}
}

func TestMigrateReportsAnUnreachableDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := gatehouse(ctx, map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:" + freePort(t) + "/db?connect_timeout=2"}, "", "migrate")
	if r.code != 1 || !strings.Contains(r.stderr, "connect to database u@127.0.0.1") || strings.Contains(r.stderr, ":p@") {
		t.Fatalf("exit %d, stderr %q; want 1, the target named and the password hidden", r.code, r.stderr)
	}
}

func TestUsersCreate(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()

	r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--email", "Admin@Example.com", "--name", "Ada", "--password-stdin", "--admin")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 36 {
		t.Fatalf("create admin: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var admin bool
	var hash string
	if err := conn.QueryRow(ctx, `select admin, password_hash from users where id = $1`, strings.TrimSpace(r.stdout)).Scan(&admin, &hash); err != nil {
		t.Fatal(err)
	}
	if !admin || !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("stored admin=%v hash=%.30q", admin, hash)
	}

	r = gatehouse(ctx, vars, "", "users", "create", "--email", "gen@example.com")
	if r.code != 0 || !strings.Contains(r.stderr, "Generated password for gen@example.com (shown once): ") {
		t.Fatalf("generated password: exit %d, stderr %q", r.code, r.stderr)
	}

	refusals := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"duplicate email", "violet tractor meadow\n", []string{"--email", "admin@example.com"}, "already exists"},
		{"common password", "password1\n", []string{"--email", "x@example.com"}, "password refused: This password is too common"},
		{"bad email", "violet tractor meadow\n", []string{"--email", "nope"}, "not a valid email address"},
		{"empty stdin", "", []string{"--email", "y@example.com"}, "read password from stdin"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"users", "create", "--password-stdin"}, tt.args...)
			r := gatehouse(ctx, vars, tt.stdin, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

func TestServeMigratesServesAndStopsOnSignal(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	metricsAddr := "127.0.0.1:" + freePort(t)
	vars := withConsoleDelivery(map[string]string{
		"DATABASE_URL":           storetest.NewEmptyDatabase(t),
		"GATEHOUSE_SECRET_KEY":   testKey,
		"GATEHOUSE_ADDR":         addr,
		"GATEHOUSE_ISSUER":       "http://" + addr + "/",
		"GATEHOUSE_METRICS_ADDR": metricsAddr,
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- gatehouse(ctx, vars, "", "serve") }()

	waitReady(t, "http://"+addr+"/readyz", done)
	resp, err := noRedirects.PostForm("http://"+addr+"/signup", url.Values{"email": {"ann@example.com"}, "password": {"violet tractor meadow"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("signup: %d to %q, want 303 to /account", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, err := http.Get("http://" + addr + "/dev/outbox"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("serve exposes the dev outbox: %v %v", resp.StatusCode, err)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("serve exposes metrics on the public listener: %v %v", resp.StatusCode, err)
	}
	if m := get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(m, `gatehouse_signups_total{outcome="success"} 1`) {
		t.Fatalf("the metrics listener does not count the signup:\n%s", m)
	}
	stop()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("serve exit %d, stderr %s", r.code, r.stderr)
		}
		for _, want := range []string{"GATEHOUSE_SMS_PROVIDER is console", "GATEHOUSE_MAIL is console"} {
			if !regexp.MustCompile(`"level":"WARN","msg":"` + want + `[^"]*unsafe in production"`).MatchString(r.stderr) {
				t.Errorf("the log lacks a warning that %s, unsafe in production:\n%s", want, r.stderr)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context ending")
	}
}

func TestDevRunsEverythingFromAnEmptyDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own Postgres cluster")
	}
	varDir := filepath.Join(t.TempDir(), "var")
	// As root the cluster runs as the postgres user, which must reach
	// var/postgres, or dev puts it under /var/tmp, where it would outlive
	// the test.
	if err := os.Chmod(filepath.Dir(filepath.Dir(varDir)), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(varDir), 0o711); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- gatehouse(ctx, map[string]string{"GATEHOUSE_ADDR": addr, "GATEHOUSE_ISSUER": "http://" + addr + "/"}, "", "dev", "--var", varDir)
	}()
	waitReady(t, "http://"+addr+"/readyz", done)

	resp, err := noRedirects.PostForm("http://"+addr+"/login", url.Values{"email": {devUsers[1].email}, "password": {devUsers[1].password}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("demo user login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, err := http.Get("http://" + addr + "/dev/outbox"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("dev outbox: %v %v", resp.StatusCode, err)
	}
	resp, err = noRedirects.PostForm("http://"+addr+"/signup", url.Values{"email": {"new@example.com"}, "password": {"violet tractor meadow"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %v %v", resp.StatusCode, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	link := waitForLink(t, "http://"+addr+"/dev/outbox", done)
	if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("verification link from the dev outbox: %v %v", resp.StatusCode, err)
	}
	stop()
	r := <-done
	if r.code != 0 || !strings.Contains(r.stdout, "Gatehouse dev is running at") {
		t.Fatalf("dev exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(varDir, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postgres still running after dev stopped (postmaster.pid: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(varDir, "secret.key")); err != nil {
		t.Fatalf("dev key: %v", err)
	}
	if !strings.Contains(r.stdout, "Sample app: client "+sampleClientID) {
		t.Fatalf("the banner does not present the sample app:\n%s", r.stdout)
	}

	// Again over HTTPS, the default, on the same database: the seeding is
	// idempotent, the sample client gains the app's https origin, and the dev
	// CA is made and trusted.
	addr = "127.0.0.1:" + freePort(t)
	ctx, stop = context.WithCancel(context.Background())
	done = make(chan result, 1)
	issuer := "https://localhost:" + strings.Split(addr, ":")[1] + "/"
	go func() {
		done <- gatehouse(ctx, map[string]string{"GATEHOUSE_ADDR": addr, "GATEHOUSE_ISSUER": issuer}, "", "dev", "--var", varDir)
	}()
	ca := filepath.Join(varDir, "tls", "ca.pem")
	waitForFile(t, ca, done)
	client := trusting(t, ca)
	waitReadyWith(t, client, "https://"+addr+"/readyz", done)
	q := url.Values{"client_id": {sampleClientID}, "redirect_uri": {sampleHTTPSOrigin}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"state-12345678"}, "nonce": {"nonce-12345678"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM"},
		"code_challenge_method": {"S256"}, "audience": {sampleAudience}}
	client.CheckRedirect = noRedirects.CheckRedirect
	resp, err = client.Get("https://" + addr + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "login") {
		t.Fatalf("authorize for the seeded sample client: %d to %q, want a redirect to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	stop()
	r = <-done
	if r.code != 0 || !strings.Contains(r.stdout, "NODE_EXTRA_CA_CERTS="+ca) || !strings.Contains(r.stdout, "open "+sampleHTTPSOrigin) {
		t.Fatalf("dev over https: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, key := range []string{"key.pem", "localhost-rsa-key.pem"} {
		if st, err := os.Stat(filepath.Join(varDir, "tls", key)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("dev TLS key %s: %v %v, want mode 0600", key, st, err)
		}
	}
}

// waitForFile waits up to 60 seconds for path to exist, failing early if the
// command ends.
func waitForFile(t *testing.T, path string, done <-chan result) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("command ended early: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		default:
		}
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within 60s", path)
}

// get returns the body of a 200 answer to GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// waitReady polls url until it answers 200, for at most 60 seconds, failing
// early if the command ends.
func waitReady(t *testing.T, url string, done <-chan result) {
	t.Helper()
	waitReadyWith(t, http.DefaultClient, url, done)
}

// waitReadyWith is waitReady with a client of the caller's (one that trusts a
// test CA, say).
func waitReadyWith(t *testing.T, client *http.Client, url string, done <-chan result) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("command ended early: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatal(err)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 60s", url)
}

var devMailLinkRE = regexp.MustCompile(`data-mail="verify">[^<]*<p[^>]*>[^<]*</p>\s*<p><a href="([^"]+)"`)

// waitForLink polls the dev outbox page until it lists a verification mail,
// for at most 10 seconds, and returns the mail's link.
func waitForLink(t *testing.T, page string, done <-chan result) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("command ended early: exit %d\nstderr %s", r.code, r.stderr)
		default:
		}
		if resp, err := http.Get(page); err == nil {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if m := devMailLinkRE.FindStringSubmatch(string(b)); m != nil {
				return html.UnescapeString(m[1])
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s lists no verification mail within 10s", page)
	return ""
}

func TestUsersVerifyEmail(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--email", "ann@example.com", "--password-stdin"); r.code != 0 {
		t.Fatalf("create: %d %q", r.code, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "users", "verify-email", "--email", "ANN@example.com"); r.code != 0 || r.stdout != "email address verified for ann@example.com\n" {
		t.Fatalf("verify-email: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "users", "verify-email", "--email", "nobody@example.com"); r.code != 1 || !strings.Contains(r.stderr, "no user has the email address") {
		t.Fatalf("unknown user: %d %q", r.code, r.stderr)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var verified bool
	var by string
	if err := conn.QueryRow(ctx, `select u.email_verified, a.details->>'by' from users u join audit_log a on a.user_id = u.id
		where a.event = 'user.email_verified'`).Scan(&verified, &by); err != nil {
		t.Fatal(err)
	}
	if !verified || by != "operator" {
		t.Fatalf("verified %v, audited by %q; want true by operator", verified, by)
	}
}

func TestUsersCreateWithAVerifiedPhone(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": dbURL, "GATEHOUSE_SECRET_KEY": testKey}
	r := gatehouse(ctx, vars, "violet tractor meadow\n", "users", "create", "--email", "ann@example.com", "--password-stdin", "--phone", "+447911123456")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var masked string
	var sealed []byte
	if err := conn.QueryRow(ctx, `select masked, phone_sealed from mfa_factors where user_id = $1`, strings.TrimSpace(r.stdout)).Scan(&masked, &sealed); err != nil {
		t.Fatal(err)
	}
	if masked != "•••• 3456" || bytes.Contains(sealed, []byte("7911123456")) {
		t.Fatalf("factor masked %q, sealed %x", masked, sealed)
	}
	if r := gatehouse(ctx, vars, "", "users", "forget-browsers", "--email", "ann@example.com"); r.code != 0 || r.stdout != "0 remembered browsers forgotten for ann@example.com\n" {
		t.Fatalf("forget-browsers: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "users", "reset-mfa", "--email", "ANN@example.com"); r.code != 0 || r.stdout != "MFA reset for ann@example.com\n" {
		t.Fatalf("reset-mfa: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var factors int
	if err := conn.QueryRow(ctx, `select count(*) from mfa_factors`).Scan(&factors); err != nil {
		t.Fatal(err)
	}
	if factors != 0 {
		t.Fatalf("%d factors after reset-mfa", factors)
	}
	if r := gatehouse(ctx, vars, "", "users", "reset-mfa", "--email", "nobody@example.com"); r.code != 1 || !strings.Contains(r.stderr, "no user has the email address") {
		t.Fatalf("reset-mfa of an unknown user: %d %q", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"a toll-free number", vars, []string{"--phone", "+18005550199"}, 1, "--phone"},
		{"no master key", map[string]string{"DATABASE_URL": dbURL}, []string{"--phone", "+447911123457"}, 2, "GATEHOUSE_SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"users", "create", "--email", "x@example.com", "--password-stdin"}, tc.args...)
			r := gatehouse(ctx, tc.vars, "violet tractor meadow\n", args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

// TestHelpListsEveryCommand holds the top-level help to the dispatcher's
// tables and to the README's table of commands.
func TestHelpListsEveryCommand(t *testing.T) {
	r := gatehouse(context.Background(), nil, "", "--help")
	if r.code != 0 {
		t.Fatalf("--help: exit %d", r.code)
	}
	help := helpCommands(r.stderr)
	for _, c := range commands() {
		if _, ok := help[c.name]; !ok {
			t.Errorf("--help omits %s", c.name)
		}
		for _, v := range c.verbs {
			if !help[c.name][v.name] {
				t.Errorf("--help omits %s %s", c.name, v.name)
			}
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeCommands(t, string(readme))
	if len(rows) < 20 {
		t.Fatalf("found only %d commands in the README's Commands table: %v", len(rows), rows)
	}
	for _, words := range rows {
		verbs, ok := help[words[0]]
		if !ok {
			t.Errorf("the README lists gatehouse %s; --help does not", words[0])
		} else if len(words) > 1 && !verbs[words[1]] {
			t.Errorf("the README lists gatehouse %s %s; --help does not", words[0], words[1])
		}
	}
}

// helpCommands reads the top-level help: each command, with the subcommands
// listed on the more deeply indented lines under it.
func helpCommands(help string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var current string
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(line, "    "):
			for _, v := range strings.Split(line, ",") {
				if v = strings.TrimSpace(v); v != "" && current != "" {
					out[current][v] = true
				}
			}
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			current = strings.Fields(line)[0]
			out[current] = map[string]bool{}
		}
	}
	return out
}

var (
	readmeCodeSpan = regexp.MustCompile("`([^`]+)`")
	subcommandWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)
)

// readmeCommands returns the commands of the README's Commands table as
// [command] or [command, subcommand], one per alternative a row names
// (`users block\|unblock` is two).
func readmeCommands(t *testing.T, readme string) [][]string {
	_, section, ok := strings.Cut(readme, "\n## Commands\n")
	if !ok {
		t.Fatal("the README has no Commands section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out [][]string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
		for _, m := range readmeCodeSpan.FindAllStringSubmatch(first, -1) {
			words := strings.Fields(strings.ReplaceAll(m[1], `\|`, "|"))
			if len(words) > 0 && words[0] == "gatehouse" {
				words = words[1:]
			}
			if len(words) == 0 {
				continue
			}
			if len(words) == 1 || !subcommandWord.MatchString(words[1]) {
				out = append(out, words[:1])
				continue
			}
			for _, verb := range strings.Split(words[1], "|") {
				out = append(out, []string{words[0], verb})
			}
		}
	}
	return out
}

func TestATakenPortStopsTheStartBeforeAnyBanner(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	serveVars := withConsoleDelivery(map[string]string{"DATABASE_URL": storetest.NewEmptyDatabase(t), "GATEHOUSE_SECRET_KEY": testKey})
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"serve", serveVars, []string{"serve", "--addr", addr}},
		{"dev", nil, []string{"dev", "--http", "--addr", addr, "--var", filepath.Join(t.TempDir(), "var")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := gatehouse(ctx, tc.vars, "", tc.args...)
			want := "address " + addr + " is already in use"
			if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--addr") {
				t.Fatalf("exit %d, stderr %q; want 2, %q and a word on --addr", r.code, r.stderr, want)
			}
			if strings.Contains(r.stderr, "gatehouse listening") || strings.Contains(r.stdout, "is running") {
				t.Fatalf("announced a start on a taken port:\nstdout %s\nstderr %s", r.stdout, r.stderr)
			}
		})
	}
}
