package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/bench/loadgen"
)

// runOIDC logs users in to any OpenID provider with a password alone and
// reports logins/s and, given the server's and its database's pids, the CPU
// time per login.
func runOIDC(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadgen oidc", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "the provider's issuer, exactly as its discovery document names it (required)")
	clientID := fs.String("client-id", "", "a client registered there, allowed the authorization code flow with PKCE (required)")
	clientSecret := fs.String("client-secret", "", "the client's secret, for a confidential client")
	redirectURI := fs.String("redirect-uri", "", "a redirect URI registered with the client; never fetched (required)")
	scope := fs.String("scope", "openid email", "space-separated scopes to ask for")
	usersFile := fs.String("users", "", "file of users, one email,password per line (required); virtual user i logs in as user i modulo their number")
	concurrency := fs.Int("concurrency", 8, "virtual users")
	duration := fs.Duration("duration", 20*time.Second, "length of one run")
	warmup := fs.Duration("warmup", 3*time.Second, "unreported run first")
	runs := fs.Int("runs", 3, "runs; the report gives their median")
	timeout := fs.Duration("timeout", 10*time.Second, "per request")
	pids := fs.String("pids", "", "comma-separated pids of the server's processes, for their CPU time per login")
	dbPIDs := fs.String("db-pids", "", "comma-separated pids of the database's processes (Postgres: the postmaster, whose backends are counted with it)")
	hash := fs.String("hash", "argon2id", "the server's password hash, for the CPU per login outside it: argon2id (Gatehouse, at its parameters), bcrypt-N (bcrypt at cost N, e.g. bcrypt-10 for Dex), none")
	waitReady := fs.Duration("wait-ready", 60*time.Second, "how long to retry the discovery document while the server starts")
	boundsFor := fs.Duration("bounds", 3*time.Second, "time for each bound measurement")
	markdown := fs.Bool("markdown", false, "print the report as Markdown tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *issuer == "" || *clientID == "" || *redirectURI == "" || *usersFile == "" {
		fs.Usage()
		return errors.New("-issuer, -client-id, -redirect-uri and -users are required")
	}
	users, err := loadgen.ReadUsers(*usersFile)
	if err != nil {
		return err
	}
	serverPIDs, err := parsePIDs("-pids", *pids)
	if err != nil {
		return err
	}
	dbList, err := parsePIDs("-db-pids", *dbPIDs)
	if err != nil {
		return err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", a...) }
	cfg := loadgen.OIDCConfig{
		Issuer: *issuer, ClientID: *clientID, ClientSecret: *clientSecret, RedirectURI: *redirectURI,
		Scope: strings.Fields(*scope), Users: users, ServerPIDs: serverPIDs, DBPIDs: dbList,
		Timeout: *timeout, Log: logf,
	}
	// A server just started may not answer discovery yet.
	var d *loadgen.OIDCDriver
	for deadline := time.Now().Add(*waitReady); ; {
		if d, err = loadgen.NewOIDCDriver(ctx, cfg); err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer d.Close()

	rep := &loadgen.Report{Targets: 1}
	logf("measuring the bounds (%s each)", *boundsFor)
	if rep.Bounds, err = loadgen.MeasureBounds(ctx, *boundsFor); err != nil {
		return err
	}
	switch {
	case *hash == "argon2id":
	case *hash == "none":
		rep.HashName, rep.HashCPU = "no hash", time.Nanosecond
	case strings.HasPrefix(*hash, "bcrypt-"):
		cost, err := strconv.Atoi(strings.TrimPrefix(*hash, "bcrypt-"))
		if err != nil || cost < 4 || cost > 31 {
			return fmt.Errorf("-hash %q: want bcrypt-4 … bcrypt-31", *hash)
		}
		rep.HashName = *hash
		if rep.HashCPU, err = loadgen.MeasureBcrypt(ctx, cost, *boundsFor); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-hash %q: want argon2id, bcrypt-N or none", *hash)
	}
	if *warmup > 0 {
		logf("warm-up %s at concurrency %d", *warmup, *concurrency)
		if _, err := d.Run(ctx, *concurrency, *warmup); err != nil {
			return err
		}
	}
	for i := range *runs {
		res, err := d.Run(ctx, *concurrency, *duration)
		if err != nil {
			return err
		}
		logf("run %d: %.1f logins/s, %d errors, loadavg %s", i+1, res.Rate(), res.Stats.ErrorCount(), res.LoadStart)
		rep.Runs = append(rep.Runs, res)
	}
	rep.Write(os.Stdout, *markdown)
	for _, res := range rep.Runs {
		if res.Stats.ErrorCount() > 0 || res.Done == 0 {
			return errors.New("some logins failed or none completed; see the Errors table")
		}
	}
	return nil
}

func parsePIDs(flagName, s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s: %q is not a pid", flagName, p)
			}
			out = append(out, n)
		}
	}
	return out, nil
}
