package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/mfa/sms/plivotest"
	"github.com/gatehouse-id/gatehouse/pgcluster"
	"github.com/gatehouse-id/gatehouse/store"
)

// resumeWithin is how soon after the standby's promotion logins must work
// again: the requirement itself, not a guess at this machine's speed.
const resumeWithin = 10 * time.Second

// TestLoginsSurviveAPostgresFailover runs serve on a multi-host DATABASE_URL
// with target_session_attrs=read-write, over a primary with a synchronous
// streaming standby. While logins with the SMS challenge and refresh-token
// rotations run, the primary is killed and the standby promoted. Logins work
// again within resumeWithin of the promotion; every message the outbox holds
// reaches the fake Plivo exactly once; no refresh token is accepted twice,
// and a rotation made before the failover holds after it;
// and while the database is away, every answer is a 503 with Retry-After,
// never a 500.
func TestLoginsSurviveAPostgresFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a primary and a standby Postgres and fails over between them")
	}
	began := time.Now()
	primary, standby := startReplicatedPair(t)
	t.Logf("primary and synchronous standby up in %v", time.Since(began).Round(time.Millisecond))

	const loginWorkers, refreshWorkers = 3, 2
	cli := cliAgainst(t, primary.URL("postgres"))
	cli("", "migrate")
	clientID, redirectURI, users := seedLoginLoad(t, cli, "Failover", loginWorkers+refreshWorkers)

	base, plivo := serveWithPlivo(t, multiHostURL(t, primary, standby))
	t.Logf("seeded and serving %v after the start", time.Since(began).Round(time.Millisecond))

	run := &failoverRun{base: base, client: clientID, redirectURI: redirectURI, sms: plivo, accepted: map[string]int{}}
	// Each refresher starts from a login made before the failover.
	families, stopWorkers := run.startLoad(t, users, loginWorkers, refreshWorkers)
	defer stopWorkers()

	run.waitFor(t, "logins and refreshes before the failover", 60*time.Second, func(s failoverStats) bool {
		return s.logins >= loginWorkers && s.refreshes >= refreshWorkers
	})
	t.Logf("killing the primary %v after the start", time.Since(began).Round(time.Millisecond))
	if err := primary.Kill(context.Background()); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	refusedBefore := run.stats().unavailable
	run.waitFor(t, "requests refused while no primary runs", 30*time.Second, func(s failoverStats) bool {
		return s.unavailable >= refusedBefore+2*(loginWorkers+refreshWorkers) && s.lastUnavailable.After(killedAt)
	})
	if status := readiness(t, base); status != http.StatusServiceUnavailable {
		t.Errorf("readyz with no primary: %d, want 503", status)
	}
	if err := standby.Promote(context.Background()); err != nil {
		t.Fatal(err)
	}
	promotedAt := time.Now()
	run.waitFor(t, "logins after the promotion", 60*time.Second, func(s failoverStats) bool {
		return s.loginsAfter(promotedAt) >= loginWorkers && s.refreshesAfter(promotedAt) >= refreshWorkers
	})
	stopWorkers()
	if status := readiness(t, base); status != http.StatusOK {
		t.Errorf("readyz after the promotion: %d, want 200", status)
	}

	s := run.stats()
	password, login := firstAfter(s.passwordsDone, promotedAt).Sub(promotedAt), firstAfter(s.loginsDone, promotedAt).Sub(promotedAt)
	t.Logf("primary killed %v before the promotion; after it, the first password accepted in %v, the first whole login (SMS code, tokens) done in %v; "+
		"%d logins, %d refreshes, %d answers 503", promotedAt.Sub(killedAt).Round(time.Millisecond), password.Round(time.Millisecond),
		login.Round(time.Millisecond), s.logins, s.refreshes, s.unavailable)
	// A whole login also waits for argon2 and an SMS, as slow as the machine
	// is busy; serving logins again is the server accepting a password.
	if password > resumeWithin {
		t.Errorf("the first password accepted after the promotion came %v after it, want within %v", password, resumeWithin)
	}
	for _, d := range s.defects {
		t.Errorf("during the failover: %s", d)
	}

	t.Run("every refresh token is accepted at most once", func(t *testing.T) { checkEachTokenAcceptedOnce(t, s) })
	t.Run("every token family is usable or revoked, and rotations survive the failover", func(t *testing.T) {
		for i, f := range families {
			if f.revoked {
				if r, err := run.refresh(context.Background(), f.current); err != nil || r.status != http.StatusBadRequest {
					t.Errorf("family %d was revoked, yet its last token is not refused: %v %d %s", i, err, r.status, r.body)
				}
				continue
			}
			before := f.rotatedBefore(killedAt)
			if before.token == "" {
				t.Fatalf("family %d has no rotation from before the failover", i)
			}
			r, err := run.refresh(context.Background(), f.current)
			if err != nil || r.status != http.StatusOK {
				t.Errorf("family %d: its current token is refused after the failover: %v %d %s", i, err, r.status, r.body)
				continue
			}
			run.checkReuseRevokes(t, fmt.Sprintf("family %d", i), before, refreshTokenOf(t, r.body))
		}
	})
	t.Run("every queued SMS reaches Plivo exactly once", func(t *testing.T) {
		checkEverySMSOnce(t, standby.URL("postgres"), plivo)
	})
}

// seedLoginLoad sets the MFA policy to always, lifts the SMS limits that a
// load of logins would reach, and creates an SPA client and n users, each with
// a verified phone. It returns the client and its callback.
func seedLoginLoad(t *testing.T, cli func(stdin string, args ...string) string, name string, n int) (clientID, redirectURI string, users []failoverUser) {
	t.Helper()
	cli("", "policy", "set", "always")
	cli("", "settings", "set", "sms_limit_phone_10m", "1000000", "sms_limit_phone_day", "1000000",
		"sms_limit_ip_hour", "1000000", "sms_limit_user_hour", "1000000", "sms_limit_global_hour", "1000000")
	redirectURI = "http://localhost:3999/callback"
	clientID = strings.TrimSpace(cli("", "clients", "create", "--name", name, "--type", "spa",
		"--callback", redirectURI, "--web-origin", "http://localhost:3999"))
	for i := range n {
		u := failoverUser{email: fmt.Sprintf("%s%d@example.com", strings.ToLower(name), i), password: "violet tractor meadow", phone: fmt.Sprintf("+4474009%05d", i)}
		cli(u.password+"\n", "users", "create", "--email", u.email, "--password-stdin", "--phone", u.phone)
		users = append(users, u)
	}
	return clientID, redirectURI, users
}

// serveWithPlivo runs serve on dbURL, without migrating (the caller has),
// sending SMS through a fake Plivo, until the test ends. It returns serve's
// base URL, once it is ready, and the fake Plivo.
func serveWithPlivo(t *testing.T, dbURL string) (string, *plivotest.Server) {
	t.Helper()
	const authID, authToken = "MAFAKEPLIVOTEST", "fake-plivo-auth-token"
	plivo := plivotest.New(t, authID, authToken)
	addr := "127.0.0.1:" + freePort(t)
	base := "http://" + addr
	vars := map[string]string{
		"DATABASE_URL":           dbURL,
		"GATEHOUSE_SECRET_KEY":   testKey,
		"GATEHOUSE_ADDR":         addr,
		"GATEHOUSE_ISSUER":       base + "/",
		"GATEHOUSE_MAIL":         "console",
		"GATEHOUSE_SMS_PROVIDER": "plivo", "PLIVO_AUTH_ID": authID, "PLIVO_AUTH_TOKEN": authToken,
		"PLIVO_SRC": "+14155550100", "PLIVO_API_URL": plivo.URL(),
	}
	ctx, stopServe := context.WithCancel(context.Background())
	served := make(chan result, 1)
	go func() { served <- gatehouse(ctx, vars, "", "serve", "--no-migrate") }()
	t.Cleanup(func() {
		stopServe()
		select {
		case r := <-served:
			if r.code != 0 || t.Failed() {
				t.Logf("serve: exit %d\nstderr (tail):\n%s", r.code, tail(r.stderr, 6000))
			}
			if r.code != 0 {
				t.Errorf("serve exited %d", r.code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of its context ending")
		}
	})
	waitReady(t, base+"/readyz", served)
	return base, plivo
}

// checkEverySMSOnce waits until the outbox of dbURL has nothing left to send,
// then checks that each of its messages reached the fake Plivo exactly once,
// and that Plivo received nothing else.
func checkEverySMSOnce(t *testing.T, dbURL string, plivo *plivotest.Server) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// A claim lost with its database connection keeps its row leased for
	// the lease's 30 seconds; then any dispatcher sends it.
	rows := waitOutboxDone(t, conn, 60*time.Second)
	sent := map[string]int{}
	for _, m := range plivo.Messages() {
		sent[m.UUID]++
	}
	recorded := map[string]bool{}
	for _, r := range rows {
		if r.status != "sent" || r.providerID == "" {
			t.Errorf("outbox row %s ended %s (%s) with provider id %q, want sent", r.id, r.status, r.lastError, r.providerID)
			continue
		}
		if sent[r.providerID] != 1 {
			t.Errorf("outbox row %s names Plivo message %s, which Plivo received %d times", r.id, r.providerID, sent[r.providerID])
		}
		recorded[r.providerID] = true
	}
	for uuid := range sent {
		if !recorded[uuid] {
			t.Errorf("Plivo received message %s, which no outbox row records: a second send of a message", uuid)
		}
	}
	if len(rows) != len(plivo.Messages()) {
		t.Errorf("%d outbox rows, %d messages at Plivo", len(rows), len(plivo.Messages()))
	}
	t.Logf("%d messages, each sent once", len(rows))
}

// checkReuseRevokes checks the reuse detection of a token family: once
// before, a rotated token, is past the reuse interval, presenting it is
// refused, and the family's current token, next, then is refused too.
func (r *failoverRun) checkReuseRevokes(t *testing.T, family string, before rotation, next string) {
	t.Helper()
	// Past the reuse interval, a rotated token is a stolen one.
	time.Sleep(time.Until(before.at.Add(store.DefaultRefreshReuseInterval)))
	if resp, err := r.refresh(context.Background(), before.token); err != nil || resp.status != http.StatusBadRequest {
		t.Errorf("%s: a rotated token is not refused (was its rotation lost?): %v %d %s", family, err, resp.status, resp.body)
	}
	if resp, err := r.refresh(context.Background(), next); err != nil || resp.status != http.StatusBadRequest {
		t.Errorf("%s: the reuse of a rotated token did not revoke the family: %v %d %s", family, err, resp.status, resp.body)
	}
}

// startReplicatedPair starts a primary and a streaming standby of it whose
// acknowledgement every commit waits for (synchronous_standby_names), so that
// a commit a client saw succeed survives the primary's death.
func startReplicatedPair(t *testing.T) (primary, standby *pgcluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "gatehouse-failover-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing the clusters' directory: %v", err)
		}
	})
	// As root the clusters run as another user, which must pass through.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	stopLater := func(c *pgcluster.Cluster) {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.Stop(ctx); err != nil {
				t.Errorf("stop postgres on port %d: %v", c.Port(), err)
			}
		})
	}
	primary, err = pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "primary"), Ephemeral: true, Replication: true})
	if err != nil {
		t.Fatal(err)
	}
	stopLater(primary)
	standby, err = pgcluster.StartStandby(ctx, primary, pgcluster.Options{Dir: filepath.Join(dir, "standby"), Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	stopLater(standby)
	conn, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{`alter system set synchronous_standby_names = '*'`, `select pg_reload_conf()`} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var sync bool
		err := conn.QueryRow(ctx, `select exists (select 1 from pg_stat_replication where sync_state = 'sync')`).Scan(&sync)
		if err != nil {
			t.Fatal(err)
		}
		if sync {
			return primary, standby
		}
		if time.Now().After(deadline) {
			t.Fatal("the standby did not become synchronous within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readiness is the status of GET /readyz.
func readiness(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if err := drainAndClose(resp.Body); err != nil {
		t.Fatalf("reading /readyz: %v", err)
	}
	return resp.StatusCode
}

// multiHostURL is the DATABASE_URL docs/deployment.md recommends: both hosts,
// the writable one chosen at each connect, a bound on each connect attempt.
func multiHostURL(t *testing.T, primary, standby *pgcluster.Cluster) string {
	t.Helper()
	u, err := url.Parse(primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = u.Host + ",127.0.0.1:" + strconv.Itoa(standby.Port())
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String()
}

// cliAgainst returns a runner of the command line on dbURL that fails the
// test when a command fails, and returns its standard output.
func cliAgainst(t *testing.T, dbURL string) func(stdin string, args ...string) string {
	vars := map[string]string{"DATABASE_URL": dbURL, "GATEHOUSE_SECRET_KEY": testKey}
	return func(stdin string, args ...string) string {
		t.Helper()
		r := gatehouse(context.Background(), vars, stdin, args...)
		if r.code != 0 {
			t.Fatalf("gatehouse %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}
}

type outboxRow struct{ id, status, providerID, lastError string }

// waitOutboxDone waits until no SMS outbox row is queued or being sent and
// returns them all.
func waitOutboxDone(t *testing.T, conn *pgx.Conn, limit time.Duration) []outboxRow {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		rows, err := conn.Query(context.Background(), `select id::text, status, coalesce(provider_message_id, ''), last_error from sms_outbox`)
		if err != nil {
			t.Fatal(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (outboxRow, error) {
			var o outboxRow
			return o, r.Scan(&o.id, &o.status, &o.providerID, &o.lastError)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(list, func(o outboxRow) bool { return o.status == "queued" || o.status == "sending" }) {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMS outbox rows still queued or sending after %v: %+v", limit, list)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type failoverUser struct{ email, password, phone string }

// tokenFamily is one refresh-token family, used by one refresher at a time.
type tokenFamily struct {
	current   string
	revoked   bool       // a reuse was detected, and every token of the family refused
	rotations []rotation // the tokens redeemed, in order
}

// rotation is one successful refresh.
type rotation struct {
	token string
	at    time.Time // when its answer arrived, after the rotation committed
}

// rotatedBefore returns the last rotation whose answer came before t.
func (f *tokenFamily) rotatedBefore(t time.Time) rotation {
	var last rotation
	for _, r := range f.rotations {
		if r.at.Before(t) {
			last = r
		}
	}
	return last
}

func refreshTokenOf(t *testing.T, body []byte) string {
	t.Helper()
	var tok failoverTokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.RefreshToken == "" {
		t.Fatalf("no refresh token in %.200q", body)
	}
	return tok.RefreshToken
}

// failoverRun drives logins and refreshes and keeps what they saw.
type failoverRun struct {
	base, client, redirectURI string
	sms                       *plivotest.Server

	mu            sync.Mutex
	passwordsDone []time.Time // passwords accepted
	loginsDone    []time.Time // whole logins done, tokens in hand
	refreshDone   []time.Time
	unavailable   int
	lastUnavail   time.Time
	accepted      map[string]int // refresh token → successful refreshes with it
	defects       []string
	changed       chan struct{} // closed and replaced at every change
}

type failoverStats struct {
	logins, refreshes, unavailable int
	lastUnavailable                time.Time
	passwordsDone                  []time.Time
	loginsDone, refreshDone        []time.Time
	accepted                       map[string]int
	defects                        []string
}

func countAfter(ts []time.Time, t time.Time) int {
	n := 0
	for _, x := range ts {
		if x.After(t) {
			n++
		}
	}
	return n
}

func (s failoverStats) loginsAfter(t time.Time) int    { return countAfter(s.loginsDone, t) }
func (s failoverStats) refreshesAfter(t time.Time) int { return countAfter(s.refreshDone, t) }

// firstAfter returns the first of ts after t, or the zero time.
func firstAfter(ts []time.Time, t time.Time) time.Time {
	for _, x := range ts {
		if x.After(t) {
			return x
		}
	}
	return time.Time{}
}

func (r *failoverRun) stats() failoverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return failoverStats{logins: len(r.loginsDone), refreshes: len(r.refreshDone), unavailable: r.unavailable,
		lastUnavailable: r.lastUnavail, passwordsDone: slices.Clone(r.passwordsDone), loginsDone: slices.Clone(r.loginsDone), refreshDone: slices.Clone(r.refreshDone),
		accepted: r.acceptedCopy(), defects: slices.Clone(r.defects)}
}

func (r *failoverRun) acceptedCopy() map[string]int {
	m := make(map[string]int, len(r.accepted))
	for k, v := range r.accepted {
		m[k] = v
	}
	return m
}

func (r *failoverRun) update(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
	if r.changed != nil {
		close(r.changed)
	}
	r.changed = make(chan struct{})
}

// waitFor waits until cond holds for the run's figures, failing the test
// after limit.
func (r *failoverRun) waitFor(t *testing.T, what string, limit time.Duration, cond func(failoverStats) bool) {
	t.Helper()
	timeout := time.After(limit)
	for {
		r.mu.Lock()
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()
		s := r.stats()
		if cond(s) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %s within %v: %d logins, %d refreshes, %d refused; defects: %q", what, limit, s.logins, s.refreshes, s.unavailable, s.defects)
		}
	}
}

// checkEachTokenAcceptedOnce fails t for every refresh token the server
// accepted more than once in the run s sums up: a rotation done twice.
func checkEachTokenAcceptedOnce(t *testing.T, s failoverStats) {
	for tok, n := range s.accepted {
		if n > 1 {
			t.Errorf("refresh token %.12s… was accepted %d times", tok, n)
		}
	}
}

// errUnavailable is an answer that says "try again later" as it should.
var errUnavailable = errors.New("temporarily unavailable")

// check sorts an answer: the one wanted, a proper refusal while the database
// is away (errUnavailable), or a defect, which is recorded.
func (r *failoverRun) check(step string, resp failoverResponse, err error, want ...int) error {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		r.defect(fmt.Sprintf("%s: no answer: %v", step, err))
		return err
	}
	if slices.Contains(want, resp.status) {
		return nil
	}
	if resp.status == http.StatusServiceUnavailable && resp.header.Get("Retry-After") != "" {
		r.update(func() { r.unavailable++; r.lastUnavail = time.Now() })
		return errUnavailable
	}
	r.defect(fmt.Sprintf("%s: %d (Retry-After %q) alert %q, body %.300q", step, resp.status, resp.header.Get("Retry-After"), alertText(resp.body), resp.body))
	return fmt.Errorf("%s: unexpected %d", step, resp.status)
}

// alertText is the page's error alert, what a person would read, so that a
// defect says why a page was refused and not only its first bytes.
func alertText(body []byte) string {
	_, after, ok := bytes.Cut(body, []byte(`role="alert"`))
	if !ok {
		return ""
	}
	_, after, _ = bytes.Cut(after, []byte(">"))
	text, _, _ := bytes.Cut(after, []byte("</"))
	return string(bytes.TrimSpace(text))
}

func (r *failoverRun) defect(d string) {
	r.update(func() { r.defects = append(r.defects, d) })
}

// startLoad logs in the users after the first loginWorkers, one token
// family each, then starts a login loop for each of the first loginWorkers
// users and a refresh loop for each family. stop ends the loops between
// requests and waits for them; calling it twice is harmless.
func (r *failoverRun) startLoad(t *testing.T, users []failoverUser, loginWorkers, refreshWorkers int) (families []*tokenFamily, stop func()) {
	t.Helper()
	families = make([]*tokenFamily, refreshWorkers)
	for i := range families {
		tok, err := r.login(context.Background(), users[loginWorkers+i])
		if err != nil {
			t.Fatalf("first login of %s: %v", users[loginWorkers+i].email, err)
		}
		families[i] = &tokenFamily{current: tok.RefreshToken}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for i := range loginWorkers {
		workers.Go(func() { r.loginLoop(ctx, users[i]) })
	}
	for _, f := range families {
		workers.Go(func() { r.refreshLoop(ctx, f) })
	}
	return families, func() {
		cancel()
		workers.Wait()
	}
}

// loginLoop logs u in over and over until ctx ends, starting afresh after
// every refusal.
func (r *failoverRun) loginLoop(ctx context.Context, u failoverUser) {
	for ctx.Err() == nil {
		if _, err := r.login(ctx, u); err == nil {
			r.update(func() { r.loginsDone = append(r.loginsDone, time.Now()) })
		} else {
			pause(ctx) // as a person would; and a defect, recorded, is not spun on
		}
	}
}

// refreshLoop rotates f's refresh token until ctx ends, retrying the same
// token after a refusal that says to, as a client does. The end of ctx stops
// the loop between requests, never during one: a rotation the server
// committed but whose answer the client dropped would leave f holding a
// rotated token, and the final checks would read that as a defect.
func (r *failoverRun) refreshLoop(ctx context.Context, f *tokenFamily) {
	for ctx.Err() == nil && !f.revoked {
		resp, err := r.refresh(context.WithoutCancel(ctx), f.current)
		if err := r.check("refresh", resp, err, http.StatusOK, http.StatusBadRequest); err != nil {
			if !errors.Is(err, context.Canceled) {
				pause(ctx)
			}
			continue
		}
		if resp.status == http.StatusBadRequest {
			// Only a rotation whose answer was lost makes a client present an
			// old token; the family is then revoked, which the final check
			// verifies.
			f.revoked = true
			r.defectUnless(strings.Contains(string(resp.body), "invalid_grant"), fmt.Sprintf("refresh refused: %s", resp.body))
			continue
		}
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(resp.body, &tok); err != nil || tok.RefreshToken == "" {
			r.defect(fmt.Sprintf("refresh answered 200 without a refresh token: %.200q", resp.body))
			return
		}
		old := f.current
		f.current = tok.RefreshToken
		f.rotations = append(f.rotations, rotation{token: old, at: time.Now()})
		r.update(func() { r.accepted[old]++; r.refreshDone = append(r.refreshDone, time.Now()) })
	}
}

func (r *failoverRun) defectUnless(ok bool, d string) {
	if !ok {
		r.defect(d)
	}
}

// pause waits a little before a retry, as a client should.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
}

type failoverResponse struct {
	status   int
	header   http.Header
	location string
	body     []byte
}

type failoverBrowser struct {
	run    *failoverRun
	client *http.Client
}

func (r *failoverRun) browser() (*failoverBrowser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	return &failoverBrowser{run: r, client: &http.Client{Jar: jar,
		// Longer than any answer may take while the database is away: a
		// request that hangs past it is a defect.
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

func (b *failoverBrowser) do(ctx context.Context, method, ref string, form url.Values) (failoverResponse, error) {
	target := ref
	if strings.HasPrefix(ref, "/") {
		target = b.run.base + ref
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return failoverResponse{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return failoverResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return failoverResponse{}, err
	}
	return failoverResponse{status: resp.StatusCode, header: resp.Header, location: resp.Header.Get("Location"), body: data}, nil
}

type failoverTokens struct {
	RefreshToken string `json:"refresh_token"`
}

// login runs a whole login with the SMS challenge and the code exchange.
// Every answer goes through check.
func (r *failoverRun) login(ctx context.Context, u failoverUser) (failoverTokens, error) {
	b, err := r.browser()
	if err != nil {
		r.defect("login: " + err.Error())
		return failoverTokens{}, err
	}
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	state := rand.Text()
	q := url.Values{"response_type": {"code"}, "client_id": {r.client}, "redirect_uri": {r.redirectURI},
		"scope": {"openid profile email offline_access"}, "state": {state}, "nonce": {rand.Text()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	redirects := []int{http.StatusFound, http.StatusSeeOther}

	resp, err := b.do(ctx, "GET", "/authorize?"+q.Encode(), nil)
	if err := r.check("authorize", resp, err, redirects...); err != nil {
		return failoverTokens{}, err
	}
	loginPage := resp.location
	resume, err := r.redirectParam("authorize", loginPage, "return_to")
	if err != nil {
		return failoverTokens{}, err
	}
	resp, err = b.do(ctx, "GET", loginPage, nil)
	if err := r.check("login page", resp, err, http.StatusOK); err != nil {
		return failoverTokens{}, err
	}
	resp, err = b.do(ctx, "POST", "/login", url.Values{"email": {u.email}, "password": {u.password}, "return_to": {resume}})
	if err := r.check("login post", resp, err, redirects...); err != nil {
		return failoverTokens{}, err
	}
	r.update(func() { r.passwordsDone = append(r.passwordsDone, time.Now()) })
	resp, err = b.do(ctx, "GET", resume, nil)
	if err := r.check("resume", resp, err, redirects...); err != nil {
		return failoverTokens{}, err
	}
	challenge := resp.location
	seen := r.sms.CountTo(u.phone)
	resp, err = b.do(ctx, "GET", challenge, nil)
	if err := r.check("challenge page", resp, err, http.StatusOK); err != nil {
		return failoverTokens{}, err
	}
	if !bytes.Contains(resp.body, []byte(`data-screen="challenge"`)) {
		r.defect(fmt.Sprintf("challenge page: not the challenge screen: %.300q", resp.body))
		return failoverTokens{}, errors.New("not the challenge screen")
	}
	// A code page shown means its message is in the outbox; it must arrive.
	// A message of an earlier attempt whose answer was lost may come first,
	// so each message that arrives is tried in turn.
	for try := 0; ; try++ {
		wait, cancel := context.WithTimeout(ctx, 45*time.Second)
		m, err := r.sms.WaitMessage(wait, u.phone, seen+try)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.defect(fmt.Sprintf("the code shown to %s never arrived: %v", u.email, err))
			}
			return failoverTokens{}, err
		}
		resp, err = b.do(ctx, "POST", "/mfa/challenge", url.Values{"step": {"code"}, "code": {plivotest.Code(m.Text)}, "return_to": {resume}})
		// A late message of an earlier attempt carries another challenge's
		// code: this one refuses it as a wrong code (400, the challenge
		// screen again), and the next message is tried.
		if err := r.check("code post", resp, err, append(redirects, http.StatusBadRequest)...); err != nil {
			return failoverTokens{}, err
		}
		if resp.status == http.StatusBadRequest && !bytes.Contains(resp.body, []byte(`data-screen="challenge"`)) {
			r.defect(fmt.Sprintf("code post: 400 off the challenge screen: %q", alertText(resp.body)))
			return failoverTokens{}, errors.New("code post refused off the challenge screen")
		}
		if resp.location == resume {
			break
		}
		if try == 2 {
			r.defect(fmt.Sprintf("code post: three codes refused: %d %q", resp.status, resp.location))
			return failoverTokens{}, errors.New("codes refused")
		}
	}
	resp, err = b.do(ctx, "GET", resume, nil)
	if err := r.check("callback", resp, err, redirects...); err != nil {
		return failoverTokens{}, err
	}
	code, err := r.redirectParam("callback", resp.location, "code")
	if err != nil {
		return failoverTokens{}, err
	}
	resp, err = b.do(ctx, "POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {r.client},
		"code": {code}, "redirect_uri": {r.redirectURI}, "code_verifier": {verifier}})
	if err := r.check("token", resp, err, http.StatusOK); err != nil {
		return failoverTokens{}, err
	}
	var tok failoverTokens
	if err := json.Unmarshal(resp.body, &tok); err != nil || tok.RefreshToken == "" {
		r.defect(fmt.Sprintf("token: no refresh token in %.200q", resp.body))
		return failoverTokens{}, errors.New("no refresh token")
	}
	return tok, nil
}

func (r *failoverRun) refresh(ctx context.Context, token string) (failoverResponse, error) {
	b, err := r.browser()
	if err != nil {
		return failoverResponse{}, err
	}
	return b.do(ctx, "POST", "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {r.client}, "refresh_token": {token}})
}

// redirectParam reads name from where step redirected. A redirect to the
// application with error=temporarily_unavailable is the authorization
// endpoint's way (RFC 6749 4.1.2.1) of saying "try again later" while the
// database is away, and counts as such; any other redirect without name is a
// defect.
func (r *failoverRun) redirectParam(step, ref, name string) (string, error) {
	if u, err := url.Parse(ref); err == nil && u.Query().Get("error") == "temporarily_unavailable" {
		r.update(func() { r.unavailable++; r.lastUnavail = time.Now() })
		return "", errUnavailable
	}
	v, err := queryParam(ref, name)
	if err != nil {
		r.defect(step + ": " + err.Error())
	}
	return v, err
}

func queryParam(ref, name string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	v := u.Query().Get(name)
	if v == "" {
		return "", fmt.Errorf("redirect to %q has no %s", ref, name)
	}
	return v, nil
}
