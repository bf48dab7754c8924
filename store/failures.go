package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

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
