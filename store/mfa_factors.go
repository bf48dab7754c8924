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

func (s *Store) PutMFAFactor(ctx context.Context, f mfa.Factor) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into mfa_factors (id, user_id, phone_sealed, phone_lookup, masked, created_at, verified_at)
		values ($1, $2, $3, $4, $5, $6, $6)
		on conflict (user_id) do update set
			id = excluded.id, phone_sealed = excluded.phone_sealed, phone_lookup = excluded.phone_lookup,
			masked = excluded.masked, created_at = excluded.created_at, verified_at = excluded.verified_at`,
		f.ID, f.UserID, f.PhoneSealed, f.PhoneLookup, f.Masked, f.VerifiedAt)
	if err != nil {
		return fmt.Errorf("store mfa factor: %w", err)
	}
	return nil
}

func (s *Store) MFAFactor(ctx context.Context, userID string) (mfa.Factor, error) {
	if !account.IsUUID(userID) {
		return mfa.Factor{}, mfa.ErrNotEnrolled
	}
	var f mfa.Factor
	err := s.db(ctx).QueryRow(ctx, `
		select id::text, user_id::text, phone_sealed, phone_lookup, masked, verified_at
		from mfa_factors where user_id = $1`, userID).
		Scan(&f.ID, &f.UserID, &f.PhoneSealed, &f.PhoneLookup, &f.Masked, &f.VerifiedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.Factor{}, mfa.ErrNotEnrolled
	}
	if err != nil {
		return mfa.Factor{}, fmt.Errorf("load mfa factor: %w", err)
	}
	return f, nil
}

func (s *Store) ReplaceMFARecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		with gone as (delete from mfa_recovery_codes where user_id = $1)
		insert into mfa_recovery_codes (user_id, code_hash, created_at)
		select $1, h, $3 from unnest($2::bytea[]) as h`, userID, hashes, at)
	if err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return nil
}

// UseMFARecoveryCode is one conditional update, so a code is spent once even
// by concurrent requests.
func (s *Store) UseMFARecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (int, bool, error) {
	if !account.IsUUID(userID) {
		return 0, false, nil
	}
	var used, unused int
	err := s.db(ctx).QueryRow(ctx, `
		with used as (
			update mfa_recovery_codes set used_at = $3
			where user_id = $1 and code_hash = $2 and used_at is null
			returning 1
		)
		select (select count(*) from used),
			(select count(*) from mfa_recovery_codes where user_id = $1 and used_at is null)`,
		userID, hash, at).Scan(&used, &unused)
	if err != nil {
		return 0, false, fmt.Errorf("use recovery code: %w", err)
	}
	// The count sees the rows as they were before the update.
	return unused - used, used == 1, nil
}

func (s *Store) DeleteMFAFactor(ctx context.Context, userID string) error {
	if !account.IsUUID(userID) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `
		with c as (delete from mfa_challenges where user_id = $1)
		delete from mfa_factors where user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("delete mfa factor: %w", err)
	}
	return nil
}

// DeleteMFA removes everything MFA keeps for the user in one statement.
func (s *Store) DeleteMFA(ctx context.Context, userID string) error {
	if !account.IsUUID(userID) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `
		with f as (delete from mfa_factors where user_id = $1),
			r as (delete from mfa_recovery_codes where user_id = $1),
			c as (delete from mfa_challenges where user_id = $1)
		delete from mfa_user_failures where user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("delete mfa of user: %w", err)
	}
	return nil
}

func (s *Store) MFARecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	if !account.IsUUID(userID) {
		return 0, nil
	}
	var n int
	err := s.db(ctx).QueryRow(ctx, `select count(*) from mfa_recovery_codes where user_id = $1 and used_at is null`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}

// LockMFAUser takes a transaction-scoped advisory lock keyed by the user, so
// enrollments, confirmations and code checks of one user run one at a time
// without locking the users row that logins update.
func (s *Store) LockMFAUser(ctx context.Context, userID string) error {
	if _, err := s.db(ctx).Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('mfa user:' || $1, 0))`, userID); err != nil {
		return fmt.Errorf("lock mfa user: %w", err)
	}
	return nil
}
