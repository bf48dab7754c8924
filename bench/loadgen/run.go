// Package loadgen drives Gatehouse with complete login journeys and with
// token refresh, discovery and JWKS requests, and measures the machine's own
// bounds for the crypto every login and refresh must do, so that each rate
// can be given as a share of what the machine could do at best.
//
// A login journey is what a browser and a single-page app do:
//
//	authorize (code + PKCE) → login page → POST password → resume
//	  → challenge page (the SMS goes out) → code read at the fake Plivo
//	  → POST code → resume → callback with the code → token exchange
//
// Every virtual user has its own cookie jar and sends each request to the
// next replica in turn. Every step checks the status and where it leads, so
// a journey that goes wrong is counted as an error by step and kind.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
)

// Modes the driver runs.
const (
	ModeLogin     = "login"     // full journeys with the SMS challenge
	ModeFlood     = "flood"     // password step only, at a concurrency far above the cores
	ModeRefresh   = "refresh"   // refresh grants, each virtual user rotating its own token
	ModeDiscovery = "discovery" // GET .well-known/openid-configuration
	ModeJWKS      = "jwks"      // GET .well-known/jwks.json
)

// Config is what a Driver needs.
type Config struct {
	Targets    []*url.URL // replica base URLs (the issuer path, ending in /)
	Client     Client
	Users      []User
	SMS        *plivotest.Server // where the replicas send their SMS
	ServerPIDs []int             // the replicas' processes, for their CPU time
	DBPIDs     []int             // Postgres's processes, for their CPU time
	Timeout    time.Duration     // per request
	SMSTimeout time.Duration     // from the challenge page to the SMS
	Log        func(format string, args ...any)
}

// Driver runs modes against the replicas.
type Driver struct {
	cfg       Config
	transport *http.Transport
	errLogged atomic.Int64

	mu            sync.Mutex
	refreshTokens map[int]string // per virtual user, kept from run to run
}

// NewDriver returns a Driver for cfg.
func NewDriver(cfg Config) (*Driver, error) {
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("loadgen: no target")
	}
	for _, t := range cfg.Targets {
		if h := t.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
			return nil, fmt.Errorf("loadgen: target %s is not on loopback", t)
		}
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	return &Driver{cfg: cfg, refreshTokens: map[int]string{}, transport: &http.Transport{
		MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}, nil
}

// Close releases the idle connections.
func (d *Driver) Close() { d.transport.CloseIdleConnections() }

// Result is one run of one mode.
type Result struct {
	Mode        string
	Concurrency int
	Elapsed     time.Duration
	Done        int // journeys or requests that succeeded
	Stats       *Stats
	LoadStart   string // /proc/loadavg when the run began
	LoadEnd     string
	HWM         map[int]int64 // server pid → peak RSS (VmHWM) in bytes during this run alone

	// CPU time used during the run by the replicas, Postgres and the driver.
	ServerCPU, DBCPU, DriverCPU time.Duration
	CPUByPID                    map[int]time.Duration // each replica's share of ServerCPU
}

// CPUPerOp is cpu per successful journey or request.
func (r Result) CPUPerOp(cpu time.Duration) time.Duration {
	if r.Done == 0 {
		return 0
	}
	return cpu / time.Duration(r.Done)
}

// Rate is successful journeys (or requests) per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Done) / r.Elapsed.Seconds()
}

// Run runs mode with concurrency virtual users for about duration; journeys
// under way at the end finish, and the elapsed time includes them.
func (d *Driver) Run(ctx context.Context, mode string, concurrency int, duration time.Duration) (Result, error) {
	if concurrency < 1 {
		return Result{}, fmt.Errorf("loadgen: concurrency %d", concurrency)
	}
	var work func(ctx context.Context, vu int, st *Stats, until time.Time) int
	switch mode {
	case ModeLogin, ModeRefresh:
		if len(d.cfg.Users) < concurrency {
			// Two users reading one phone's codes would take each other's.
			return Result{}, fmt.Errorf("loadgen: %s needs a user per virtual user: %d users for %d", mode, len(d.cfg.Users), concurrency)
		}
		if mode == ModeLogin {
			work = d.loginLoop
		} else {
			work = d.refreshLoop
		}
	case ModeFlood:
		work = d.floodLoop
	case ModeDiscovery:
		work = d.staticLoop("/.well-known/openid-configuration")
	case ModeJWKS:
		work = d.staticLoop("/.well-known/jwks.json")
	default:
		return Result{}, fmt.Errorf("loadgen: unknown mode %q", mode)
	}
	return measure(ctx, mode, concurrency, duration, d.cfg.ServerPIDs, d.cfg.DBPIDs, work)
}

// measure runs work on concurrency virtual users until duration has passed
// and takes the CPU time the server's and the database's processes and the
// driver spent meanwhile from /proc, and each server process's peak RSS
// during the run: its high-water mark is reset first, as otherwise it holds
// the peak of every earlier run and mode. A process whose mark cannot be
// reset gets no peak rather than a wrong one.
func measure(ctx context.Context, mode string, concurrency int, duration time.Duration, serverPIDs, dbPIDs []int,
	work func(ctx context.Context, vu int, st *Stats, until time.Time) int) (Result, error) {
	res := Result{Mode: mode, Concurrency: concurrency, LoadStart: loadavg(), HWM: map[int]int64{}}
	var peaked []int
	for _, p := range serverPIDs {
		if ResetPeakRSS(p) == nil {
			peaked = append(peaked, p)
		}
	}
	var c collector
	var done atomic.Int64
	var wg sync.WaitGroup
	perPID := map[int]time.Duration{}
	for _, p := range serverPIDs {
		perPID[p] = cpuOf([]int{p})
	}
	serverCPU, dbCPU, driverCPU := cpuOf(serverPIDs), cpuOf(dbPIDs), cpuOf([]int{0})
	start := time.Now()
	until := start.Add(duration)
	for vu := range concurrency {
		st := c.new()
		wg.Go(func() { done.Add(int64(work(ctx, vu, st, until))) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.ServerCPU = cpuOf(serverPIDs) - serverCPU
	res.CPUByPID = map[int]time.Duration{}
	for _, p := range serverPIDs {
		res.CPUByPID[p] = cpuOf([]int{p}) - perPID[p]
	}
	for _, p := range peaked {
		if hwm, err := PeakRSS(p); err == nil {
			res.HWM[p] = hwm
		}
	}
	res.DBCPU = cpuOf(dbPIDs) - dbCPU
	res.DriverCPU = cpuOf([]int{0}) - driverCPU
	res.LoadEnd = loadavg()
	res.Done = int(done.Load())
	res.Stats = c.merged()
	return res, ctx.Err()
}

func (d *Driver) journeys() *journeys {
	return &journeys{client: d.cfg.Client, sms: d.cfg.SMS, smsTimeout: d.cfg.SMSTimeout}
}

func (d *Driver) newBrowser(vu int) *browser {
	return newBrowser(d.transport, d.cfg.Targets, d.cfg.Timeout, vu)
}

// failed counts err in st and logs the first few.
func (d *Driver) failed(st *Stats, err error) {
	kind := err.Error()
	var se *StepError
	if errors.As(err, &se) {
		kind = se.Step + ": " + se.Kind
		if prefix, _, ok := strings.Cut(err.Error(), ": "+se.Step+": "); ok && err != error(se) {
			kind = prefix + ": " + kind // e.g. "login before refreshing: token: HTTP 500"
		}
	}
	st.fail(kind)
	if d.errLogged.Add(1) <= 5 {
		d.cfg.Log("journey failed: %v", err)
	}
}

func (d *Driver) loginLoop(ctx context.Context, vu int, st *Stats, until time.Time) int {
	j, b, u := d.journeys(), d.newBrowser(vu), d.cfg.Users[vu]
	n := 0
	for ctx.Err() == nil && time.Now().Before(until) {
		start := time.Now()
		if _, err := j.login(ctx, b, st, u); err != nil {
			d.failed(st, err)
			continue
		}
		st.Journeys = append(st.Journeys, time.Since(start))
		n++
	}
	return n
}

func (d *Driver) floodLoop(ctx context.Context, vu int, st *Stats, until time.Time) int {
	j, b, u := d.journeys(), d.newBrowser(vu), d.cfg.Users[vu%len(d.cfg.Users)]
	n := 0
	for ctx.Err() == nil && time.Now().Before(until) {
		start := time.Now()
		if _, err := j.password(ctx, b, st, u, newFlow()); err != nil {
			d.failed(st, err)
			continue
		}
		st.Journeys = append(st.Journeys, time.Since(start))
		n++
	}
	return n
}

// refreshLoop rotates its refresh token until the end. It logs in for one
// when it has none; the token is kept for the next run, so that a measured
// run (after the warm-up) spends no time logging in. A failed refresh logs in
// again, since its token may be spent.
func (d *Driver) refreshLoop(ctx context.Context, vu int, st *Stats, until time.Time) int {
	j, b, u := d.journeys(), d.newBrowser(vu), d.cfg.Users[vu]
	n := 0
	d.mu.Lock()
	rt := d.refreshTokens[vu]
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.refreshTokens[vu] = rt
		d.mu.Unlock()
	}()
	for ctx.Err() == nil && time.Now().Before(until) {
		if rt == "" {
			t, err := j.login(ctx, b, newStats(), u)
			if err != nil {
				d.failed(st, fmt.Errorf("login before refreshing: %w", err))
				continue
			}
			if rt = t.RefreshToken; rt == "" {
				d.failed(st, fmt.Errorf("login before refreshing: no refresh token (is offline_access in the scope?)"))
				return n
			}
		}
		start := time.Now()
		t, err := j.refresh(ctx, b, st, rt)
		if err != nil {
			d.failed(st, err)
			rt = ""
			continue
		}
		st.Journeys = append(st.Journeys, time.Since(start))
		rt = t.RefreshToken
		n++
	}
	return n
}

// loadavg is the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// LoadAvg is the first three fields of /proc/loadavg, or "?".
func LoadAvg() string { return loadavg() }

// WaitReady waits until every target answers 200 on readyz.
func WaitReady(ctx context.Context, targets []*url.URL, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for _, t := range targets {
		for {
			resp, err := client.Get(t.String() + "readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("loadgen: %s was not ready within %s", t, limit)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}
