package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/limits"
)

var errCountersExhausted = errors.New("send counters exhausted")

// TakeCounters increments every counter in one statement whose upsert only
// increments a row below its max; the row lock that upsert takes makes the
// check and the increment one step for concurrent callers on any replica.
// When any counter was at its max, the statement's increments are undone by
// rolling back to a savepoint, so a refused action counts nowhere. Every
// limit (SMS, mail, signups, passkey ceremonies) counts in the one table,
// under keys of its own; limits.Take passes the counters in one order so
// that two takes never wait on each other's rows in opposite orders.
func (s *Store) TakeCounters(ctx context.Context, counters []limits.Counter) ([]limits.Counter, error) {
	if len(counters) == 0 {
		return nil, nil
	}
	keys := make([]string, len(counters))
	starts := make([]time.Time, len(counters))
	ends := make([]time.Time, len(counters))
	maxes := make([]int32, len(counters))
	for i, c := range counters {
		keys[i], starts[i], ends[i], maxes[i] = c.Key, c.WindowStart, c.WindowEnd, int32(c.Max)
	}
	var exhausted []limits.Counter
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
		for _, c := range counters {
			if !got[c.Key] {
				exhausted = append(exhausted, c)
			}
		}
		return errCountersExhausted
	})
	if errors.Is(err, errCountersExhausted) {
		return exhausted, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take send counters: %w", err)
	}
	return nil, nil
}

// ReadCounters reads the counters' rows in one query; a window nobody counted
// in has no row and counts 0. It changes nothing.
func (s *Store) ReadCounters(ctx context.Context, counters []limits.Counter) ([]int, error) {
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
		return nil, fmt.Errorf("read send counters: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read send counters: %w", err)
	}
	return counts, nil
}

// inSavepoint runs fn in a transaction of its own, nested as a savepoint when
// ctx carries one, so that fn can undo its writes without ending the caller's.
func (s *Store) inSavepoint(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return pgx.BeginFunc(ctx, tx, fn)
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}
