package store

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired removes rows that can no longer matter at now: ended sessions
// and brute-force counters older than any window that reads them. It reports
// how many rows went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, counterAge time.Duration) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql string
		arg time.Time
	}{
		{`delete from sessions where idle_expires_at <= $1 or expires_at <= $1`, now},
		{`delete from login_failures where last_failure_at <= $1`, now.Add(-counterAge)},
		{`delete from ip_login_failures where hour <= $1`, now.Add(-counterAge)},
	} {
		tag, err := s.db(ctx).Exec(ctx, q.sql, q.arg)
		if err != nil {
			return total, fmt.Errorf("delete expired rows: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}
