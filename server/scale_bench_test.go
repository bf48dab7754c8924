package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/store"
)

// BenchmarkAtScale measures what a big installation costs: logins, audit
// reads and cleanup passes with a million users and ten million audit
// entries (a year of them) in the database, and the same cleanup on a
// monthly-partitioned copy of the audit log for comparison. Filling the
// database takes minutes, so it runs only when GATEHOUSE_BENCH_SCALE is set
// (docs/benchmarks.md, "Growth"):
//
//	GATEHOUSE_BENCH_SCALE=1 go run ./cmd/withpostgres -- go test -run x -bench AtScale -benchtime 1x -timeout 2h ./server/
func BenchmarkAtScale(b *testing.B) {
	scale := os.Getenv("GATEHOUSE_BENCH_SCALE")
	if scale == "" {
		b.Skip("set GATEHOUSE_BENCH_SCALE=1 to fill a database with 1M users and 10M audit entries")
	}
	users, entries := 1_000_000, 10_000_000
	if u, e, ok := strings.Cut(scale, ","); ok { // "USERS,ENTRIES" for a quick try
		var err error
		if users, err = strconv.Atoi(u); err == nil {
			entries, err = strconv.Atoi(e)
		}
		if err != nil {
			b.Fatalf("GATEHOUSE_BENCH_SCALE=%q: want 1 or USERS,ENTRIES", scale)
		}
	}
	h := newBenchHarness(b, accounttest.CheapParams)
	login := loginTimer(b, h)

	empty := login(300)
	progress(b, "login, empty database: p50 %s, p99 %s", empty.p50(), empty.p99())

	start := time.Now()
	fillAtScale(b, h.st, users, entries)
	progress(b, "filled %d users and %d audit entries in %s", users, entries, time.Since(start).Round(time.Second))

	full := login(300)
	progress(b, "login, %d users and %d audit entries: p50 %s, p99 %s", users, entries, full.p50(), full.p99())
	b.ReportMetric(ms(full.p50()), "login-p50-ms")

	auditReads(b, h.st, h.clock.Now())

	// A pass with nothing of the audit log due: what every pass costs once
	// retention has caught up.
	now := h.clock.Now()
	res, took := sweep(b, h.st, store.Cleanup{Now: now, CounterAge: time.Hour, AuditBefore: now.Add(-366 * 24 * time.Hour)})
	progress(b, "pass, nothing due: %s, %d rows", took, res.Rows())

	// A month of entries due at once (about 820,000 rows), as when a
	// retention of 335 days is first set on a year of log, with logins
	// running throughout.
	took = sweepWhileLoggingIn(b, h.st, login, store.Cleanup{Now: now, CounterAge: time.Hour, AuditBefore: now.Add(-335 * 24 * time.Hour)}, "a month due")
	b.ReportMetric(took.Seconds(), "month-cleanup-s")

	after := login(300)
	progress(b, "login after the pass: p50 %s, p99 %s", after.p50(), after.p99())
	auditReads(b, h.st, h.clock.Now())

	partitionedComparison(b, h.st, now)

	// Nine months due at once: a retention of 90 days first set on the year.
	sweepWhileLoggingIn(b, h.st, login, store.Cleanup{Now: now, CounterAge: time.Hour, AuditBefore: now.Add(-90 * 24 * time.Hour)}, "nine months due")
}

// sweepWhileLoggingIn runs a pass and logs in over and over until it ends.
func sweepWhileLoggingIn(b *testing.B, st *store.Store, login func(int) latencies, c store.Cleanup, label string) time.Duration {
	var (
		res  store.SweepResult
		took time.Duration
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, took = sweep(b, st, c)
	}()
	var during latencies
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
			during = append(during, login(1)...)
		}
	}
	var batches int
	for _, s := range res.Swept {
		if s.What == "audit_log" {
			batches = s.Batches
		}
	}
	progress(b, "pass, %s: %s, %d audit rows in %d batches (%s a batch); %d logins meanwhile: p50 %s, p99 %s",
		label, took, res.RowsOf("audit_log"), batches, (took / time.Duration(max(batches, 1))).Round(time.Millisecond),
		len(during), during.p50(), during.p99())
	b.ReportMetric(ms(during.p99()), "login-p99-during-cleanup-ms")
	return took
}

type latencies []time.Duration

func (l latencies) at(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)].Round(10 * time.Microsecond)
}
func (l latencies) p50() time.Duration { return l.at(0.5) }
func (l latencies) p99() time.Duration { return l.at(0.99) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loginTimer returns a function that logs ann in n times over HTTP and
// returns how long each took.
func loginTimer(b *testing.B, h *harness) func(n int) latencies {
	form := url.Values{"email": {"ann@example.com"}, "password": {goodPassword}}.Encode()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(n int) latencies {
		out := make(latencies, 0, n)
		for range n {
			start := time.Now()
			resp, err := client.Post(h.srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				b.Fatal(err)
			}
			if err := drainAndClose(resp.Body); err != nil {
				b.Fatalf("reading the login answer: %v", err)
			}
			if resp.StatusCode != http.StatusSeeOther {
				b.Fatalf("login answered %d", resp.StatusCode)
			}
			out = append(out, time.Since(start))
		}
		return out
	}
}

// drainAndClose reads what is left of a response body and closes it, so that
// its connection can serve the next request.
func drainAndClose(body io.ReadCloser) error {
	_, err := io.Copy(io.Discard, body)
	if cerr := body.Close(); err == nil {
		err = cerr
	}
	return err
}

// fillAtScale adds users and a year of audit entries ending at now, spread
// evenly, each naming one of the users, then vacuums and analyzes as
// autovacuum would have on a live system.
func fillAtScale(b *testing.B, st *store.Store, users, entries int) {
	ctx := b.Context()
	// The audit log's secondary indexes are built after the rows, as a bulk
	// build is many times faster than ten million inserts into each.
	rows, err := st.Pool().Query(ctx, `select indexname, indexdef from pg_indexes
		where tablename = 'audit_log' and indexname <> 'audit_log_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	var drops, creates []string
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		drops, creates = append(drops, "drop index "+name), append(creates, def)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	steps := append(drops, []string{
		fmt.Sprintf(`insert into users (email, password_hash, created_at)
			select 'user' || g || '@example.com', '$argon2id$x', now() - interval '400 days'
			from generate_series(1, %d) g`, users),
		`create temporary table bench_ids as select row_number() over () as n, id from users`,
		`create index on bench_ids (n)`,
		fmt.Sprintf(`insert into audit_log (at, event, user_id, subject, ip, user_agent, request_id, details)
			select now() - interval '365 days' * (g::float8 / %[1]d),
				(array['login.succeeded', 'login.failed', 'mfa.challenge_passed', 'session.ended', 'token.issued'])[1 + g %% 5],
				u.id, 'user' || u.n || '@example.com', ('198.51.100.' || g %% 250)::inet,
				'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
				md5(g::text), jsonb_build_object('client_id', 'bench-spa', 'amr', jsonb_build_array('pwd'))
			from generate_series(1, %[1]d) g join bench_ids u on u.n = 1 + g %% %[2]d`, entries, users),
	}...)
	steps = append(steps, creates...)
	for _, q := range append(steps, `vacuum analyze users`, `vacuum analyze audit_log`) {
		start := time.Now()
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			b.Fatalf("fill: %v\n%s", err, q)
		}
		short := strings.Join(strings.Fields(q), " ")
		progress(b, "fill: %.60s: %s", short, time.Since(start).Round(time.Second))
	}
}

// progress reports as it goes: a benchmark's log appears only at its end,
// and this one runs for many minutes.
func progress(b *testing.B, format string, args ...any) {
	b.Logf(format, args...)
	if _, err := fmt.Fprintf(os.Stderr, format+"\n", args...); err != nil {
		b.Fatalf("writing progress to stderr: %v", err)
	}
}

// auditReads times the audit log's readers: the Logs page unfiltered, by
// user, by event and by time range, and the dashboard's weekly counts.
func auditReads(b *testing.B, st *store.Store, now time.Time) {
	ctx := b.Context()
	var uid string
	if err := st.Pool().QueryRow(ctx, `select id from users where email = 'user4242@example.com'`).Scan(&uid); err != nil {
		b.Fatal(err)
	}
	reads := []struct {
		name string
		run  func() error
	}{
		{"logs page, newest 50", func() error { _, err := st.AuditEvents(ctx, store.AuditFilter{}); return err }},
		{"logs page, one user", func() error { _, err := st.AuditEvents(ctx, store.AuditFilter{UserID: uid}); return err }},
		{"logs page, one event", func() error {
			_, err := st.AuditEvents(ctx, store.AuditFilter{Type: "login.failed"})
			return err
		}},
		{"logs page, a day 200 days ago", func() error {
			_, err := st.AuditEvents(ctx, store.AuditFilter{Since: now.Add(-200 * 24 * time.Hour), Until: now.Add(-199 * 24 * time.Hour)})
			return err
		}},
		{"dashboard, last week's counts", func() error { _, err := st.Activity(ctx, now); return err }},
	}
	for _, r := range reads {
		var l latencies
		for range 11 {
			start := time.Now()
			if err := r.run(); err != nil {
				b.Fatalf("%s: %v", r.name, err)
			}
			l = append(l, time.Since(start))
		}
		progress(b, "%s: median %s", r.name, l.p50())
	}
}

func sweep(b *testing.B, st *store.Store, c store.Cleanup) (store.SweepResult, time.Duration) {
	start := time.Now()
	res, err := st.Sweep(context.WithoutCancel(b.Context()), c)
	if err != nil || !res.Ran {
		b.Fatalf("Sweep = %+v, %v", res, err)
	}
	return res, time.Since(start).Round(time.Millisecond)
}

// partitionedComparison copies the audit log into a table partitioned by
// month and times what partitioning would change: the cleanup of a month
// (a dropped partition) and the Logs page's reads, which then merge every
// partition's index.
func partitionedComparison(b *testing.B, st *store.Store, now time.Time) {
	ctx := b.Context()
	exec := func(q string, args ...any) time.Duration {
		start := time.Now()
		if _, err := st.Pool().Exec(ctx, q, args...); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
		return time.Since(start).Round(10 * time.Microsecond)
	}
	exec(`create table audit_part (like audit_log including defaults) partition by range (at)`)
	first := time.Date(now.Year()-1, now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var months []string
	for m := first; m.Before(now.AddDate(0, 1, 0)); m = m.AddDate(0, 1, 0) {
		name := "audit_part_" + m.Format("200601")
		months = append(months, name)
		exec(fmt.Sprintf(`create table %s partition of audit_part for values from ('%s') to ('%s')`,
			name, m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339)))
	}
	copied := exec(`insert into audit_part select * from audit_log`)
	for _, q := range []string{
		`create index on audit_part (at)`, `create index on audit_part (id)`,
		`create index on audit_part (user_id, id) where user_id is not null`, `create index on audit_part (event, id)`,
		`vacuum analyze audit_part`,
	} {
		exec(q)
	}
	progress(b, "partitioned copy: %s to copy the rows (what a migration converting the table would take, before its indexes)", copied)
	var uid string
	if err := st.Pool().QueryRow(ctx, `select id from users where email = 'user4242@example.com'`).Scan(&uid); err != nil {
		b.Fatal(err)
	}
	cols := `id, at, event, coalesce(user_id::text, ''), subject, coalesce(host(ip), ''), user_agent, request_id, details::text`
	for _, r := range []struct {
		name, sql string
		args      []any
	}{
		{"logs page, newest 50", `select ` + cols + ` from %s order by id desc limit 50`, nil},
		{"logs page, one user", `select ` + cols + ` from %s where user_id = $1 order by id desc limit 50`, []any{uid}},
		{"logs page, one event", `select ` + cols + ` from %s where event = $1 order by id desc limit 50`, []any{"login.failed"}},
	} {
		for _, table := range []string{"audit_log", "audit_part"} {
			var l latencies
			for range 11 {
				l = append(l, exec(fmt.Sprintf(r.sql, table), r.args...))
			}
			progress(b, "%s on %s: median %s", r.name, table, l.p50())
		}
	}
	// The oldest month with entries left: the one retention would drop next.
	for _, m := range months {
		var n int64
		if err := st.Pool().QueryRow(ctx, `select count(*) from `+m).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n > 0 {
			progress(b, "partitioned: dropping the oldest month (%d rows): %s", n,
				exec(`alter table audit_part detach partition `+m)+exec(`drop table `+m))
			break
		}
	}
	exec(`drop table audit_part`)
}
