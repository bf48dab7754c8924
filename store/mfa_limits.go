package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/mfa"
)

var errCountersExhausted = errors.New("send counters exhausted")

// TakeMFASends increments every counter in one statement whose upsert only
// increments a row below its max; the row lock that upsert takes makes the
// check and the increment one step for concurrent callers on any replica.
// When any counter was at its max, the statement's increments are undone by
// rolling back to a savepoint, so a refused send counts nowhere. Callers pass
// the counters in one order (mfa sorts them by key) so that two sends never
// wait on each other's rows in opposite orders.
func (s *Store) TakeMFASends(ctx context.Context, counters []mfa.SendCounter) ([]mfa.SendCounter, error) {
	exhausted, err := takeCounters(ctx, s, counters, func(c mfa.SendCounter) sendCounter {
		return sendCounter{c.Key, c.WindowStart, c.WindowEnd, c.Max}
	})
	if err != nil {
		return nil, fmt.Errorf("count sms sends: %w", err)
	}
	return exhausted, nil
}

// MFASendCounts reads the counters' rows in one query; a window nobody sent
// in has no row and counts 0.
func (s *Store) MFASendCounts(ctx context.Context, counters []mfa.SendCounter) ([]int, error) {
	keys := make([]string, len(counters))
	starts := make([]time.Time, len(counters))
	for i, c := range counters {
		keys[i], starts[i] = c.Key, c.WindowStart
	}
	rows, err := s.db(ctx).Query(ctx, `
		select coalesce(c.count, 0)
		from unnest($1::text[], $2::timestamptz[]) with ordinality as w(key, window_start, n)
		left join sms_send_counters c on c.key = w.key and c.window_start = w.window_start
		order by w.n`, keys, starts)
	if err != nil {
		return nil, fmt.Errorf("read sms send counters: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read sms send counters: %w", err)
	}
	return counts, nil
}

// sendCounter is the row a counter of any limit (SMS, mail) upserts.
type sendCounter struct {
	key        string
	start, end time.Time
	max        int
}

// takeCounters takes counters of any type through takeSendCounters and
// returns those that were at their max.
func takeCounters[C any](ctx context.Context, s *Store, counters []C, row func(C) sendCounter) ([]C, error) {
	keys := make([]string, len(counters))
	starts := make([]time.Time, len(counters))
	ends := make([]time.Time, len(counters))
	maxes := make([]int32, len(counters))
	for i, c := range counters {
		r := row(c)
		keys[i], starts[i], ends[i], maxes[i] = r.key, r.start, r.end, int32(r.max)
	}
	idx, err := s.takeSendCounters(ctx, keys, starts, ends, maxes)
	if err != nil {
		return nil, err
	}
	var exhausted []C
	for _, i := range idx {
		exhausted = append(exhausted, counters[i])
	}
	return exhausted, nil
}

// takeSendCounters is TakeMFASends and TakeMailSends on plain columns; it
// returns the indexes of the counters that were at their max.
func (s *Store) takeSendCounters(ctx context.Context, keys []string, starts, ends []time.Time, maxes []int32) ([]int, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var exhausted []int
	err := s.inSavepoint(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			with wanted as (
				select * from unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::int[])
					with ordinality as w(key, window_start, window_end, max, n)
			)
			insert into sms_send_counters as c (key, window_start, window_end, count)
			select key, window_start, window_end, 1 from wanted order by n
			on conflict (key, window_start) do update set count = c.count + 1
			where c.count < (select w.max from wanted w where w.key = c.key and w.window_start = c.window_start)
			returning key`, keys, starts, ends, maxes)
		if err != nil {
			return err
		}
		taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(taken) == len(keys) {
			return nil
		}
		got := make(map[string]bool, len(taken))
		for _, k := range taken {
			got[k] = true
		}
		for i, k := range keys {
			if !got[k] {
				exhausted = append(exhausted, i)
			}
		}
		return errCountersExhausted
	})
	if errors.Is(err, errCountersExhausted) {
		return exhausted, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// inSavepoint runs fn in a transaction of its own, nested as a savepoint when
// ctx carries one, so that fn can undo its writes without ending the caller's.
func (s *Store) inSavepoint(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return pgx.BeginFunc(ctx, tx, fn)
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}

func (s *Store) MFAFailures(ctx context.Context, userID string) (mfa.FailureState, error) {
	var st mfa.FailureState
	if !validUUID(userID) {
		return st, nil
	}
	var until *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select consecutive, locked_until, account_locked from mfa_user_failures where user_id = $1`, userID).
		Scan(&st.Consecutive, &until, &st.AccountLocked)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("load mfa failures: %w", err)
	}
	if until != nil {
		st.LockedUntil = *until
	}
	return st, nil
}

// AddMFAFailure counts in one upsert, so that concurrent failures on several
// replicas each get their own number.
func (s *Store) AddMFAFailure(ctx context.Context, userID string, at time.Time) (int, error) {
	var n int
	err := s.db(ctx).QueryRow(ctx, `
		insert into mfa_user_failures as f (user_id, consecutive, total, last_failure_at)
		values ($1, 1, 1, $2)
		on conflict (user_id) do update set
			consecutive = f.consecutive + 1, total = f.total + 1, last_failure_at = $2
		returning consecutive`, userID, at).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count mfa failure: %w", err)
	}
	return n, nil
}

func (s *Store) LockMFA(ctx context.Context, userID string, until time.Time, account bool) error {
	_, err := s.db(ctx).Exec(ctx, `
		update mfa_user_failures set
			locked_until = coalesce($2, locked_until),
			account_locked = account_locked or $3
		where user_id = $1`, userID, nullTime(until), account)
	if err != nil {
		return fmt.Errorf("lock mfa: %w", err)
	}
	return nil
}

func (s *Store) ClearMFAFailures(ctx context.Context, userID string) error {
	if !validUUID(userID) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `update mfa_user_failures set consecutive = 0 where user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("clear mfa failures: %w", err)
	}
	return nil
}
