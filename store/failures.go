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

// lockAddress serializes, on every replica, the counting of attempts from one
// address until the transaction ends. A pair is one address's too, so this one
// lock covers both counters an attempt changes; it is held for a few
// statements, never across the password's hashing.
func lockAddress(ctx context.Context, tx pgx.Tx, ip netip.Addr) error {
	_, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('login failures:' || $1::inet::text, 0))`, ip)
	return err
}

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
		if err := lockAddress(ctx, tx, ip); err != nil {
			return err
		}
		txCtx := context.WithValue(ctx, txKey{}, tx)
		st, err := s.FailureState(txCtx, emailKey, ip, rule.IPSince)
		if err != nil {
			return err
		}
		if refused = admit(st); refused != nil {
			return refused
		}
		var hourLast *time.Time
		err = tx.QueryRow(ctx, `
			select last_failure_at from ip_login_failures
			where ip = $1 and hour = date_trunc('hour', $2::timestamptz)`, ip, a.At).Scan(&hourLast)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if hourLast != nil {
			a.PrevIPHourLast = *hourLast
		}
		a.PrevPairConsecutive, a.PrevPairLast = st.PairConsecutive, st.PairLastFailure
		return s.RecordFailure(txCtx, emailKey, ip, a.At, rule.PairLimit, rule.PairReset)
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
	err := s.inSavepoint(ctx, func(tx pgx.Tx) error {
		if err := lockAddress(ctx, tx, a.IP); err != nil {
			return err
		}
		// Separate statements: a row updated in a statement cannot be
		// deleted by the same statement.
		steps := []struct {
			sql  string
			args []any
		}{
			{`update login_failures set
					consecutive = case when last_failure_at = $3 then $4 else consecutive - 1 end,
					last_failure_at = case when last_failure_at = $3 then coalesce($5, last_failure_at) else last_failure_at end
				where email_key = $1 and ip = $2`,
				[]any{a.EmailKey, a.IP, a.At, a.PrevPairConsecutive, nullTime(a.PrevPairLast)}},
			{`delete from login_failures where email_key = $1 and ip = $2 and consecutive <= 0`,
				[]any{a.EmailKey, a.IP}},
			{`update ip_login_failures set
					failures = failures - 1,
					last_failure_at = case when last_failure_at = $2 then coalesce($3, last_failure_at) else last_failure_at end
				where ip = $1 and hour = date_trunc('hour', $2::timestamptz)`,
				[]any{a.IP, a.At, nullTime(a.PrevIPHourLast)}},
			{`delete from ip_login_failures where ip = $1 and hour = date_trunc('hour', $2::timestamptz) and failures <= 0`,
				[]any{a.IP, a.At}},
		}
		for _, st := range steps {
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("undo login attempt: %w", err)
	}
	return nil
}

func (s *Store) FailureState(ctx context.Context, emailKey string, ip netip.Addr, ipSince time.Time) (account.FailureState, error) {
	var st account.FailureState
	var pairLast, ipLast *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select
			coalesce((select consecutive from login_failures where email_key = $1 and ip = $2), 0),
			(select last_failure_at from login_failures where email_key = $1 and ip = $2),
			coalesce(sum(failures), 0)::int,
			max(last_failure_at)
		from ip_login_failures
		where ip = $2 and hour > $3`, emailKey, ip, ipSince.Truncate(time.Hour)).
		Scan(&st.PairConsecutive, &pairLast, &st.IPFailures, &ipLast)
	if err != nil {
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
