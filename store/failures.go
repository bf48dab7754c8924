package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

// lockAddressSQL serializes, on every replica, the counting of attempts from one
// address until the transaction ends. A pair is one address's too, so this one
// lock covers both counters an attempt changes; it is held for a few
// statements, never across the password's hashing.
const lockAddressSQL = `select pg_advisory_xact_lock(hashtextextended('login failures:' || $1::inet::text, 0))`

// TakeAttempt reads the counters and counts the attempt as a failure in one
// transaction under the address's lock, so that parallel attempts are each
// shown the counts of those before them; the sum over the day's hourly buckets
// cannot be bounded by a single row's upsert. When admit refuses, nothing is
// counted and its error comes back as it is.
func (s *Store) TakeAttempt(ctx context.Context, emailKey string, ip netip.Addr, at time.Time,
	rule account.AttemptRule, admit func(account.FailureState) error) (account.Attempt, error) {
	// Postgres keeps microseconds; UndoAttempt recognises the attempt's own
	// writes by this time.
	a := account.Attempt{EmailKey: emailKey, IP: ip, At: at.Truncate(time.Microsecond)}
	var refused error
	err := s.inSavepoint(ctx, func(tx pgx.Tx) error {
		// The lock and both reads go in one round trip; the lock is taken
		// first, so the reads see every attempt counted before it.
		b := &pgx.Batch{}
		b.Queue(lockAddressSQL, ip)
		b.Queue(failureStateSQL, emailKey, ip, rule.IPSince.Truncate(time.Hour))
		b.Queue(`
			select last_failure_at from ip_login_failures
			where ip = $1 and hour = date_trunc('hour', $2::timestamptz)`, ip, a.At)
		br := tx.SendBatch(ctx, b)
		st, hourLast, err := readAttemptBatch(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if refused = admit(st); refused != nil {
			return refused
		}
		if hourLast != nil {
			a.PrevIPHourLast = *hourLast
		}
		a.PrevPairConsecutive, a.PrevPairLast = st.PairConsecutive, st.PairLastFailure
		return s.RecordFailure(context.WithValue(ctx, txKey{}, tx), emailKey, ip, a.At, rule.PairLimit, rule.PairReset)
	})
	if refused != nil {
		return account.Attempt{}, refused
	}
	if err != nil {
		return account.Attempt{}, fmt.Errorf("take login attempt: %w", err)
	}
	return a, nil
}

// UndoAttempt takes back what TakeAttempt counted. While no later attempt
// wrote to a counter, its earlier state comes back exactly (a pair whose
// lockout had ended gets its old count back, not zero); after one did, only
// the count goes down by one, and the later attempt's time stays.
func (s *Store) UndoAttempt(ctx context.Context, a account.Attempt) error {
	b := &pgx.Batch{}
	b.Queue(lockAddressSQL, a.IP)
	// Separate statements: a row updated in a statement cannot be deleted by
	// the same statement.
	b.Queue(`update login_failures set
			consecutive = case when last_failure_at = $3 then $4 else consecutive - 1 end,
			last_failure_at = case when last_failure_at = $3 then coalesce($5, last_failure_at) else last_failure_at end
		where email_key = $1 and ip = $2`,
		a.EmailKey, a.IP, a.At, a.PrevPairConsecutive, nullTime(a.PrevPairLast))
	b.Queue(`delete from login_failures where email_key = $1 and ip = $2 and consecutive <= 0`, a.EmailKey, a.IP)
	queueUndoAddress(b, a)
	if err := s.sendAtomic(ctx, b); err != nil {
		return fmt.Errorf("undo login attempt: %w", err)
	}
	return nil
}

// SucceedAttempt is UndoAttempt and ClearPair at once, as a right password
// does: the address's count is taken back as UndoAttempt would, and the pair's
// row goes, whatever its count.
func (s *Store) SucceedAttempt(ctx context.Context, a account.Attempt) error {
	b := &pgx.Batch{}
	b.Queue(lockAddressSQL, a.IP)
	b.Queue(`delete from login_failures where email_key = $1 and ip = $2`, a.EmailKey, a.IP)
	queueUndoAddress(b, a)
	if err := s.sendAtomic(ctx, b); err != nil {
		return fmt.Errorf("undo login attempt and clear its pair: %w", err)
	}
	return nil
}

// queueUndoAddress takes the attempt back from its address's hourly count.
func queueUndoAddress(b *pgx.Batch, a account.Attempt) {
	b.Queue(`update ip_login_failures set
			failures = failures - 1,
			last_failure_at = case when last_failure_at = $2 then coalesce($3, last_failure_at) else last_failure_at end
		where ip = $1 and hour = date_trunc('hour', $2::timestamptz)`,
		a.IP, a.At, nullTime(a.PrevIPHourLast))
	b.Queue(`delete from ip_login_failures where ip = $1 and hour = date_trunc('hour', $2::timestamptz) and failures <= 0`,
		a.IP, a.At)
}

// sendAtomic sends a batch of statements in one round trip, all or none:
// outside a transaction Postgres runs a batch as one implicit transaction (so
// an advisory transaction lock queued first holds until its end); inside the
// context's transaction it runs in a savepoint.
func (s *Store) sendAtomic(ctx context.Context, b *pgx.Batch) error {
	send := func(br pgx.BatchResults) error {
		var err error
		for range b.Len() {
			if _, err = br.Exec(); err != nil {
				break
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if _, ok, err := s.tx(ctx); err != nil || ok {
		return s.inSavepoint(ctx, func(tx pgx.Tx) error { return send(tx.SendBatch(ctx, b)) })
	}
	return send(s.pool.SendBatch(ctx, b))
}

// readAttemptBatch reads TakeAttempt's batch: the lock, the failure state
// and the address's count of this hour.
func readAttemptBatch(br pgx.BatchResults) (account.FailureState, *time.Time, error) {
	if _, err := br.Exec(); err != nil {
		return account.FailureState{}, nil, err
	}
	st, err := scanFailureState(br.QueryRow())
	if err != nil {
		return st, nil, err
	}
	var hourLast *time.Time
	if err := br.QueryRow().Scan(&hourLast); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, nil, err
	}
	return st, hourLast, nil
}

const failureStateSQL = `
	select
		coalesce((select consecutive from login_failures where email_key = $1 and ip = $2), 0),
		(select last_failure_at from login_failures where email_key = $1 and ip = $2),
		coalesce(sum(failures), 0)::int,
		max(last_failure_at)
	from ip_login_failures
	where ip = $2 and hour > $3`

func (s *Store) FailureState(ctx context.Context, emailKey string, ip netip.Addr, ipSince time.Time) (account.FailureState, error) {
	return scanFailureState(s.db(ctx).QueryRow(ctx, failureStateSQL, emailKey, ip, ipSince.Truncate(time.Hour)))
}

func scanFailureState(row pgx.Row) (account.FailureState, error) {
	var st account.FailureState
	var pairLast, ipLast *time.Time
	if err := row.Scan(&st.PairConsecutive, &pairLast, &st.IPFailures, &ipLast); err != nil {
		return st, fmt.Errorf("login failure state: %w", err)
	}
	if pairLast != nil {
		st.PairLastFailure = *pairLast
	}
	if ipLast != nil {
		st.IPLastFailure = *ipLast
	}
	return st, nil
}

// RecordFailure updates both counters in one statement so that concurrent
// failures on several replicas are all counted.
func (s *Store) RecordFailure(ctx context.Context, emailKey string, ip netip.Addr, at time.Time, pairLimit int, pairReset time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		with pair as (
			insert into login_failures as f (email_key, ip, consecutive, last_failure_at)
			values ($1, $2, 1, $3)
			on conflict (email_key, ip) do update set
				consecutive = case
					when f.consecutive >= $4 and f.last_failure_at <= $5 then 1
					else f.consecutive + 1
				end,
				last_failure_at = $3
		)
		insert into ip_login_failures as i (ip, hour, failures, last_failure_at)
		values ($2, date_trunc('hour', $3::timestamptz), 1, $3)
		on conflict (ip, hour) do update set
			failures = i.failures + 1,
			last_failure_at = greatest(i.last_failure_at, $3)`,
		emailKey, ip, at, pairLimit, pairReset)
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

func (s *Store) ClearPair(ctx context.Context, emailKey string, ip netip.Addr) error {
	_, err := s.db(ctx).Exec(ctx, `delete from login_failures where email_key = $1 and ip = $2`, emailKey, ip)
	if err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
