package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultBatchSize bounds the rows one cleanup statement touches. Each
// statement commits on its own, so a backlog of millions of rows is removed as
// many short transactions that never hold locks or a snapshot for long,
// instead of one delete that runs for minutes and bloats every table meanwhile.
const DefaultBatchSize = 5000

// Cleanup is one janitor pass: the cut-offs of what is kept. A zero cut-off
// keeps everything of its kind.
type Cleanup struct {
	Now        time.Time
	CounterAge time.Duration // brute-force counters older than this go
	// Outbox rows (SMS and mail) created before OutboxBefore go.
	OutboxBefore time.Time
	// Login history (adaptive MFA's memory of devices) before this goes.
	LoginHistoryBefore time.Time
	// Audit entries before AuditBefore go; zero keeps the whole trail.
	AuditBefore time.Time
	// BatchSize is the most rows one statement deletes; 0 is DefaultBatchSize.
	BatchSize int
}

// Swept is what a pass did to one kind of row.
type Swept struct {
	What    string
	Rows    int64
	Batches int  // statements run, each its own transaction
	Updated bool // the rows were emptied (an outbox's sent messages), not deleted
}

// SweepResult is one pass. Ran is false when another replica holds the
// lease: that pass then did nothing.
type SweepResult struct {
	Ran   bool
	Swept []Swept
}

// Rows is the total deleted.
func (r SweepResult) Rows() int64 {
	var n int64
	for _, s := range r.Swept {
		if !s.Updated {
			n += s.Rows
		}
	}
	return n
}

// RowsOf is what went of one kind, e.g. "audit_log".
func (r SweepResult) RowsOf(what string) int64 {
	for _, s := range r.Swept {
		if s.What == what {
			return s.Rows
		}
	}
	return 0
}

// Sweep runs one cleanup pass unless another replica is running one. The
// pass holds the janitor's lease (see janitor_lease.go) and renews it before
// each batch; should the replica die mid-pass, the lease runs out and the next
// replica to try takes over. The batches already committed stay done, so a
// pass cut short loses nothing. A pass whose lease was taken over stops with
// ErrJanitorLeaseLost. Called within InTx, the batches share that one
// transaction instead of committing each; the lease never joins it, so other
// replicas see it at once.
func (s *Store) Sweep(ctx context.Context, c Cleanup) (SweepResult, error) {
	l, ok, err := s.takeJanitorLease(ctx, DefaultJanitorLease)
	if err != nil || !ok {
		return SweepResult{}, err
	}
	defer l.release(ctx)
	res := SweepResult{Ran: true}
	for _, p := range c.purges() {
		sw, err := s.purge(ctx, p, c.BatchSize, l.renew)
		res.Swept = append(res.Swept, sw)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// purgeStep is one cleanup statement. Its where clause reads the cut-off arg
// as $1 (a nil arg: none) and must be served by an index, so that each batch
// finds its rows without reading the table.
type purgeStep struct {
	what  string // the table, as reported in Swept
	table string
	where string
	arg   any
	// set, when not empty, updates the rows instead of deleting them.
	set string
}

// purge runs p in batches of at most size rows until a batch comes back
// short. A batch selects rows by ctid and names the condition again, so a row
// changed meanwhile (a session extended) is checked anew and not removed.
// before, when set, runs ahead of every batch and stops the purge by failing.
func (s *Store) purge(ctx context.Context, p purgeStep, size int, before func(context.Context) error) (Swept, error) {
	if size <= 0 {
		size = DefaultBatchSize
	}
	args, limit := []any{p.arg, size}, "$2"
	if p.arg == nil {
		args, limit = []any{size}, "$1"
	}
	batch := fmt.Sprintf(`ctid = any(array(select ctid from %s where %s limit %s)) and %s`, p.table, p.where, limit, p.where)
	sql := "delete from " + p.table + " where " + batch
	if p.set != "" {
		sql = "update " + p.table + " set " + p.set + " where " + batch
	}
	sw := Swept{What: p.what, Updated: p.set != ""}
	for {
		if before != nil {
			if err := before(ctx); err != nil {
				return sw, fmt.Errorf("clean up %s: %w", p.what, err)
			}
		}
		tag, err := s.db(ctx).Exec(ctx, sql, args...)
		if err != nil {
			return sw, fmt.Errorf("clean up %s: %w", p.what, err)
		}
		sw.Rows += tag.RowsAffected()
		sw.Batches++
		if tag.RowsAffected() < int64(size) {
			return sw, nil
		}
	}
}

func (s *Store) purgeAll(ctx context.Context, steps []purgeStep) (int64, error) {
	var total int64
	for _, p := range steps {
		sw, err := s.purge(ctx, p, DefaultBatchSize, nil)
		if !sw.Updated {
			total += sw.Rows
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// purges lists the pass's statements: the expiry-driven ones always, the
// retention-driven ones when their cut-off is set.
func (c Cleanup) purges() []purgeStep {
	steps := expiredSteps(c.Now, c.CounterAge)
	steps = append(steps, mfaSteps(c.Now)...)
	steps = append(steps, emailSteps(c.Now)...)
	if !c.OutboxBefore.IsZero() {
		steps = append(steps, outboxSteps("sms_outbox", c.OutboxBefore)...)
		steps = append(steps, outboxSteps("mail_outbox", c.OutboxBefore)...)
	}
	if !c.LoginHistoryBefore.IsZero() {
		steps = append(steps, loginHistoryStep(c.LoginHistoryBefore))
	}
	if !c.AuditBefore.IsZero() {
		steps = append(steps, purgeStep{what: "audit_log", table: "audit_log", where: `at < $1`, arg: c.AuditBefore})
	}
	return steps
}

// expiredSteps remove rows that can no longer matter at now: ended sessions,
// brute-force counters older than any window that reads them, expired OAuth2
// codes and tokens, and setups and passkey ceremonies left unfinished.
func expiredSteps(now time.Time, counterAge time.Duration) []purgeStep {
	step := func(table, where string, arg time.Time) purgeStep {
		return purgeStep{what: table, table: table, where: where, arg: arg}
	}
	return []purgeStep{
		step("sessions", `(idle_expires_at <= $1 or expires_at <= $1)`, now),
		step("login_failures", `last_failure_at <= $1`, now.Add(-counterAge)),
		step("ip_login_failures", `hour <= $1`, now.Add(-counterAge)),
		// A used code is kept until it expires so that its replay revokes the grant.
		step("oauth2_tokens", `kind <> 'refresh' and expires_at <= $1`, now),
		// Past its own expiry a refresh token can only be refused, rotated or not.
		{what: "oauth2_tokens (refresh)", table: "oauth2_tokens",
			where: `kind = 'refresh' and (family_expires_at <= $1 or expires_at <= $1)`, arg: now},
		step("login_transactions", `expires_at <= $1`, now),
		step("mfa_trusted_browsers", `expires_at <= $1`, now),
		step("mfa_totp_pending", `expires_at <= $1`, now),
		step("webauthn_ceremonies", `expires_at <= $1`, now),
	}
}

// DeleteExpired removes rows that can no longer matter at now (see
// expiredSteps), in batches. It reports how many rows went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, counterAge time.Duration) (int64, error) {
	return s.purgeAll(ctx, expiredSteps(now, counterAge))
}
