package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/bench/loadgen"
	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

// runLoad starts the fake Plivo on -plivo-addr (the replicas' PLIVO_API_URL),
// waits for the replicas, measures the bounds and runs the modes. It fails
// when any journey or request failed.
func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	targets := fs.String("targets", "", "comma-separated replica base URLs, e.g. http://127.0.0.1:8081/ (loopback only)")
	plivoAddr := fs.String("plivo-addr", "127.0.0.1:0", "loopback address of the fake Plivo")
	plivoID := fs.String("plivo-auth-id", "MABENCH0000000000000", "the fake Plivo's account id (PLIVO_AUTH_ID of the replicas)")
	plivoToken := fs.String("plivo-auth-token", "bench-token", "the fake Plivo's auth token (PLIVO_AUTH_TOKEN of the replicas)")
	clientID := fs.String("client-id", "bench-spa", "the SPA client's id")
	redirectURI := fs.String("redirect-uri", "http://localhost/bench/callback", "the SPA client's registered callback")
	scope := fs.String("scope", "openid profile email offline_access", "scope to ask for")
	users := fs.Int("users", 64, "seeded users bench1@example.com … benchN@example.com")
	userPassword := fs.String("password", "bench-password-2026", "the seeded users' password")
	phoneBase := fs.Int("phone-base", 7700900000, "user i has the phone +44 (phone-base+i)")
	modes := fs.String("modes", "login,refresh,discovery,jwks,flood", "modes to run, in order")
	conc := fs.String("concurrency", "login=8,refresh=8,discovery=32,jwks=32,flood=64", "virtual users per mode")
	duration := fs.Duration("duration", 20*time.Second, "length of one run")
	warmup := fs.Duration("warmup", 3*time.Second, "unreported run before each mode's runs")
	runs := fs.Int("runs", 3, "runs per mode; the report gives their median")
	boundsFor := fs.Duration("bounds", 3*time.Second, "time for each bound measurement")
	timeout := fs.Duration("timeout", 10*time.Second, "per request")
	waitReady := fs.Duration("wait-ready", 60*time.Second, "how long to wait for the replicas' /readyz")
	pids := fs.String("pids", "", "comma-separated replica pids, for their CPU time and their peak RSS in each run")
	dbPID := fs.Int("db-pid", 0, "the Postgres postmaster's pid, for the CPU time of Postgres")
	markdown := fs.Bool("markdown", false, "print the report as Markdown tables")
	profileURL := fs.String("cpuprofile-url", "", "a replica's /debug/pprof/profile URL: take a CPU profile during each mode's first run")
	profileDir := fs.String("cpuprofile-dir", ".", "where the profiles go, one MODE.pprof per mode")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := loadgen.Config{
		Client:     loadgen.Client{ID: *clientID, RedirectURI: *redirectURI, Scope: *scope},
		Timeout:    *timeout,
		SMSTimeout: *timeout,
		Log:        func(f string, a ...any) { fmt.Fprintf(os.Stderr, "loadgen: "+f+"\n", a...) },
	}
	for _, t := range strings.Split(*targets, ",") {
		u, err := url.Parse(strings.TrimSpace(t))
		if err != nil || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
			return fmt.Errorf("-targets: %q is not a base URL ending in /", t)
		}
		cfg.Targets = append(cfg.Targets, u)
	}
	for i := 1; i <= *users; i++ {
		cfg.Users = append(cfg.Users, loadgen.User{Email: fmt.Sprintf("bench%d@example.com", i), Password: *userPassword,
			Phone: fmt.Sprintf("+44%d", *phoneBase+i)})
	}
	perMode, err := parseConcurrency(*conc)
	if err != nil {
		return err
	}
	var pidList []int
	for _, p := range strings.Split(*pids, ",") {
		if p = strings.TrimSpace(p); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				return fmt.Errorf("-pids: %q", p)
			}
			pidList = append(pidList, n)
		}
	}

	cfg.ServerPIDs = pidList
	if *dbPID != 0 {
		cfg.DBPIDs = []int{*dbPID}
	}
	fake, err := plivotest.Start(*plivoID, *plivoToken, *plivoAddr)
	if err != nil {
		return err
	}
	defer fake.Close()
	cfg.SMS = fake
	cfg.Log("fake Plivo at %s", fake.URL())
	d, err := loadgen.NewDriver(cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := loadgen.WaitReady(ctx, cfg.Targets, *waitReady); err != nil {
		return err
	}

	for _, pid := range pidList {
		hwm, err := loadgen.PeakRSS(pid)
		if err != nil {
			return err
		}
		rss, anon, file, err := loadgen.RSS(pid)
		if err != nil {
			return err
		}
		cfg.Log("replica pid %d before any load: RSS %.1f MiB (anonymous %.1f, file %.1f), peak so far %.1f MiB",
			pid, mib(rss), mib(anon), mib(file), mib(hwm))
	}
	rep := &loadgen.Report{Targets: len(cfg.Targets)}
	cfg.Log("measuring the bounds (%s each)", *boundsFor)
	if rep.Bounds, err = loadgen.MeasureBounds(ctx, *boundsFor); err != nil {
		return err
	}
	for _, mode := range strings.Split(*modes, ",") {
		mode = strings.TrimSpace(mode)
		c := perMode[mode]
		if c == 0 {
			c = 8
		}
		if *warmup > 0 {
			cfg.Log("%s: warm-up %s at concurrency %d", mode, *warmup, c)
			if _, err := d.Run(ctx, mode, c, *warmup); err != nil {
				return err
			}
		}
		for i := range *runs {
			var profiled <-chan error
			if *profileURL != "" && i == 0 {
				profiled = loadgen.FetchProfile(ctx, *profileURL, *duration, filepath.Join(*profileDir, mode+".pprof"))
			}
			res, err := d.Run(ctx, mode, c, *duration)
			if err != nil {
				return err
			}
			if profiled != nil {
				if err := <-profiled; err != nil {
					return err
				}
			}
			cfg.Log("%s run %d: %.1f/s, %d errors, loadavg %s", mode, i+1, res.Rate(), res.Stats.ErrorCount(), res.LoadStart)
			rep.Runs = append(rep.Runs, res)
		}
	}
	rep.Write(os.Stdout, *markdown)
	for _, res := range rep.Runs {
		if res.Stats.ErrorCount() > 0 || res.Done == 0 {
			return errors.New("some journeys or requests failed or none completed; see the Errors table")
		}
	}
	return nil
}

// parseConcurrency reads "login=8,flood=256".
func parseConcurrency(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if kv == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("-concurrency: %q is not mode=N", kv)
		}
		out[k] = n
	}
	return out, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
