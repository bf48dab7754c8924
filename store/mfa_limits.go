package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

func (s *Store) MFAFailures(ctx context.Context, userID string) (mfa.FailureState, error) {
	var st mfa.FailureState
	if !account.IsUUID(userID) {
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
	if !account.IsUUID(userID) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `update mfa_user_failures set consecutive = 0 where user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("clear mfa failures: %w", err)
	}
	return nil
}
