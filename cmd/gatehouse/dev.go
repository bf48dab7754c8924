package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/devtls"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/pgcluster"
	"github.com/gatehouse-id/gatehouse/store"
)

// Demo accounts seeded by `gatehouse dev`. They exist only in the private dev
// database.
var devUsers = []struct {
	email, name, password string
	admin                 bool
}{
	{"admin@example.com", "Demo Admin", "gatehouse-admin-demo", true},
	{"user@example.com", "Demo User", "gatehouse-user-demo", false},
}

const devDatabase = "gatehouse"

func runDev(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "dev [flags]",
		"Runs Gatehouse locally with everything it needs: a private PostgreSQL cluster\n"+
			"under ./var/postgres (kept across runs, stopped on exit; as root, under\n"+
			"/var/tmp/gatehouse-dev-<hash> when the postgres user cannot enter ./var), a master key in\n"+
			"./var/secret.key, the schema, demo users and the sample app's client and API.\n"+
			"It serves HTTPS on https://localhost:8443/ with a certificate from its own local\n"+
			"CA in ./var/tls (trust ./var/tls/ca.pem); --http, or an http:// issuer, serves\n"+
			"plain HTTP instead (http://localhost:8080/ by default). Open the issuer URL in a browser.",
		"GATEHOUSE_ISSUER", "GATEHOUSE_ADDR", "GATEHOUSE_TLS_CERT", "GATEHOUSE_TLS_KEY")
	var f serverFlags
	fs.StringVar(&f.issuer, "issuer", "", "public base URL ending in / (overrides GATEHOUSE_ISSUER)")
	fs.StringVar(&f.addr, "addr", "", "listen address (overrides GATEHOUSE_ADDR); without --issuer, the issuer moves to its port")
	varDir := fs.String("var", devVarDir, "directory for the dev database, key and TLS files")
	policy := fs.String("mfa-policy", "", "set the MFA policy at start: never, adaptive or always (codes appear at /dev/outbox)")
	plainHTTP := fs.Bool("http", false, "serve plain HTTP on :8080 instead of HTTPS on :8443")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := mfa.ParsePolicy(*policy); *policy != "" && err != nil {
		return &configError{"--mfa-policy", fmt.Sprintf("%q is not a policy", *policy), "use never, adaptive or always"}
	}
	useTLS, err := devScheme(e, f, *plainHTTP)
	if err != nil {
		return err
	}
	f.defaultIssuer, f.defaultAddr = "http://localhost:8080/", ":8080"
	if useTLS {
		f.defaultIssuer, f.defaultAddr = devHTTPSIssuer, ":8443"
	}
	if issuer, ok := devIssuerAt(useTLS, orDefault(f.addr, e.getenv("GATEHOUSE_ADDR"), "")); ok {
		f.defaultIssuer = issuer
	}
	c, err := loadConfig(e, f, true)
	if err != nil {
		return err
	}
	l, err := listen(c.addr)
	if err != nil {
		return err
	}
	defer l.Close()
	c.dev = true
	log := newLogger(e, false)
	// Open to others for search only, so that the postgres user, which runs
	// the cluster when dev runs as root, can reach var/postgres in a
	// checkout it can enter; what var holds is closed to them.
	if err := os.MkdirAll(*varDir, 0o711); err != nil {
		return fmt.Errorf("create %s: %w", *varDir, err)
	}
	var devTLS devTLSFiles
	if useTLS && c.tlsCert == "" {
		if devTLS, err = devCertificate(&c, *varDir, log); err != nil {
			return err
		}
	}
	if c.secretKey, err = devSecretKey(*varDir); err != nil {
		return err
	}
	cluster, err := startDevPostgres(ctx, *varDir, log)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cluster.Stop(stopCtx); err != nil {
			log.Error("stopping postgres failed", "err", err)
		}
	}()
	if err := ensureDatabase(ctx, cluster.URL("postgres"), devDatabase); err != nil {
		return err
	}
	c.databaseURL = cluster.URL(devDatabase)
	st, err := openStore(ctx, c.databaseURL, true, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seedDevUsers(ctx, st, log); err != nil {
		return err
	}
	if err := seedSample(ctx, st, sampleOrigins(useTLS)); err != nil {
		return err
	}
	if *policy != "" {
		if err := st.SetSetting(ctx, mfa.PolicySettingKey, *policy, "gatehouse dev"); err != nil {
			return err
		}
	}
	printDevBanner(e, c, devTLS, writeSampleConfig(sampleConfigFor(c.issuer), sampleConfigPath))
	return serveHTTP(ctx, c, l, st, log)
}

// devHTTPSIssuer is where dev serves by default: HTTPS, because Auth0's
// sample API builds the issuer as https://{domain}/ and silent login from an
// app on another site needs SameSite=None cookies, which must be Secure.
const devHTTPSIssuer = "https://localhost:8443/"

// devIssuerAt is dev's issuer for a listen address given without an issuer:
// the default scheme on the address's port, so that discovery names where dev
// listens. Loopback and wildcard hosts become localhost, which the dev
// certificate and the sample app expect; another host is kept, since a
// browser could not reach the server as localhost.
func devIssuerAt(useTLS bool, addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", false
	}
	if ip, err := netip.ParseAddr(host); host == "" || host == "localhost" || err == nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/", true
}

// devScheme decides between HTTPS (the default) and plain HTTP: --http or an
// http:// issuer choose HTTP; --http with an https:// issuer is a mistake.
func devScheme(e env, f serverFlags, plainHTTP bool) (bool, error) {
	issuer := orDefault(f.issuer, e.getenv("GATEHOUSE_ISSUER"), "")
	switch {
	case issuer == "":
		return !plainHTTP, nil
	case strings.HasPrefix(issuer, "https://") && plainHTTP:
		return false, &configError{"--http", fmt.Sprintf("contradicts the https issuer %q", issuer), "drop --http, or give an http:// issuer"}
	}
	return strings.HasPrefix(issuer, "https://"), nil
}

// devTLSFiles are the dev CA's files the banner names, as absolute paths:
// the CA to trust and the sample app's certificate and key.
type devTLSFiles struct {
	ca, appCert, appKey string
}

// devCertificate points c at a certificate from the dev CA under
// varDir/tls, made or renewed as needed for localhost and the issuer's host,
// along with the sample app's.
func devCertificate(c *config, varDir string, log *slog.Logger) (devTLSFiles, error) {
	hosts := append(slices.Clone(devtls.DefaultHosts), c.issuer.Hostname())
	dir, err := filepath.Abs(filepath.Join(varDir, "tls"))
	if err != nil {
		return devTLSFiles{}, err
	}
	b, err := devtls.Ensure(dir, hosts, time.Now())
	if err != nil {
		return devTLSFiles{}, fmt.Errorf("dev TLS certificate: %w", err)
	}
	if b.CACreated {
		log.Info("created a local certificate authority for dev HTTPS; trust it once", "ca", b.CAPath)
	}
	if b.CertCreated {
		log.Info("issued the dev server certificate", "cert", b.CertPath, "hosts", strings.Join(hosts, ","))
	}
	if b.RSACertCreated {
		log.Info("issued the sample app's certificate", "cert", b.RSACertPath)
	}
	c.tlsCert, c.tlsKey = b.CertPath, b.KeyPath
	return devTLSFiles{ca: b.CAPath, appCert: b.RSACertPath, appKey: b.RSAKeyPath}, nil
}

// startDevPostgres starts (or adopts) the dev cluster where findDevCluster
// finds it, or makes one under varDir/postgres. When run as root from a
// directory the postgres user cannot enter (a checkout under /root, say), the
// cluster lives under /var/tmp instead, keyed by the checkout's path.
func startDevPostgres(ctx context.Context, varDir string, log *slog.Logger) (*pgcluster.Cluster, error) {
	wanted, fallback, err := devClusterDirs(varDir)
	if err != nil {
		return nil, err
	}
	opts := pgcluster.Options{Dir: wanted, Logger: log}
	if dir, ok := findDevCluster(varDir); ok {
		opts.Dir = dir
	}
	cluster, err := pgcluster.Start(ctx, opts)
	if errors.Is(err, pgcluster.ErrDirNotReachable) {
		opts.Dir = fallback
		log.Warn("the postgres user cannot reach the data directory; using another", "wanted", wanted, "using", opts.Dir)
		cluster, err = pgcluster.Start(ctx, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	log.Info("postgres running", "dir", cluster.Dir(), "url", redactURL(cluster.URL(devDatabase)))
	return cluster, nil
}

// devSecretKey reads the dev master key, making one on first run. Losing it
// only loses what it encrypts in the dev database.
func devSecretKey(varDir string) ([]byte, error) {
	path := filepath.Join(varDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return parseSecretKey(path, string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read dev key: %w", err)
	}
	if err := os.MkdirAll(varDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", varDir, err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write dev key: %w", err)
	}
	return key, nil
}

// ensureDatabase creates the named database unless it exists.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from pg_database where datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func seedDevUsers(ctx context.Context, st *store.Store, log *slog.Logger) error {
	accounts := newAccounts(st, log, nil, nil, nil)
	for _, u := range devUsers {
		_, err := accounts.CreateUser(ctx, u.email, u.name, u.password, u.admin, account.Meta{})
		if err != nil && !errors.Is(err, account.ErrEmailTaken) {
			return fmt.Errorf("seed %s: %w", u.email, err)
		}
	}
	return nil
}

func printDevBanner(e env, c config, tls devTLSFiles, sample sampleConfigResult) {
	caPath := tls.ca
	var b strings.Builder
	fmt.Fprintf(&b, "\n  Gatehouse dev is running at %s\n\n  Demo accounts:\n", c.issuer)
	for _, u := range devUsers {
		role := "user"
		if u.admin {
			role = "admin"
		}
		fmt.Fprintf(&b, "    %-20s %-22s (%s)\n", u.email, u.password, role)
	}
	fmt.Fprintf(&b, "\n  Text messages (MFA codes) and emails (verification and reset links) appear at %sdev/outbox\n", c.issuer)
	if caPath != "" {
		fmt.Fprintf(&b, "\n  HTTPS uses a local certificate authority: %s\n", caPath)
		fmt.Fprintf(&b, "    Node.js (the sample API): NODE_EXTRA_CA_CERTS=%s\n", caPath)
		fmt.Fprintf(&b, "    Browsers: import it as a trusted authority (Chrome: Settings > Privacy and security >\n")
		fmt.Fprintf(&b, "    Security > Manage certificates > Authorities; Firefox: Settings > Certificates >\n")
		fmt.Fprintf(&b, "    Authorities). docs/development.md has the command-line ways.\n")
	}
	fmt.Fprintf(&b, "\n%s", sample.describe(tls))
	fmt.Fprintf(&b, "\n  Press Ctrl+C to stop (Postgres stops too).\n\n")
	fmt.Fprint(e.stdout, b.String())
}

func redactURL(raw string) string {
	if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
		user := raw[i+3 : j]
		if k := strings.IndexByte(user, ':'); k >= 0 {
			return raw[:i+3] + user[:k] + ":***" + raw[j:]
		}
	}
	return raw
}
