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

func (s *Store) PutPendingTOTP(ctx context.Context, userID, setupID string, sealedSecret []byte, expiresAt time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into mfa_totp_pending (user_id, setup_id, sealed_secret, expires_at)
		values ($1, $2, $3, $4)
		on conflict (user_id, setup_id) do update
		set sealed_secret = excluded.sealed_secret, expires_at = excluded.expires_at`,
		userID, setupID, sealedSecret, expiresAt)
	if err != nil {
		return fmt.Errorf("store pending totp: %w", err)
	}
	return nil
}

func (s *Store) PendingTOTP(ctx context.Context, userID, setupID string, now time.Time) ([]byte, error) {
	if !account.IsUUID(userID) {
		return nil, mfa.ErrNoPendingTOTP
	}
	var sealed []byte
	err := s.db(ctx).QueryRow(ctx, `
		select sealed_secret from mfa_totp_pending where user_id = $1 and setup_id = $2 and expires_at > $3`,
		userID, setupID, now).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mfa.ErrNoPendingTOTP
	}
	if err != nil {
		return nil, fmt.Errorf("load pending totp: %w", err)
	}
	return sealed, nil
}

// ActivateTOTP takes the pending secret only if it is still the one the code
// was checked against and unexpired, so of two concurrent confirmations, or a
// confirmation racing a new setup, at most one activates.
func (s *Store) ActivateTOTP(ctx context.Context, userID, setupID string, sealedSecret []byte, now time.Time, usedStep int64) error {
	if !account.IsUUID(userID) {
		return mfa.ErrNoPendingTOTP
	}
	tag, err := s.db(ctx).Exec(ctx, `
		with p as (
			delete from mfa_totp_pending
			where user_id = $1 and setup_id = $5 and sealed_secret = $2 and expires_at > $3
			returning user_id, sealed_secret
		)
		insert into mfa_totp (user_id, sealed_secret, last_step, activated_at)
		select user_id, sealed_secret, $4, $3 from p
		on conflict (user_id) do update
		set sealed_secret = excluded.sealed_secret, last_step = excluded.last_step, activated_at = excluded.activated_at`,
		userID, sealedSecret, now, usedStep, setupID)
	if err != nil {
		return fmt.Errorf("activate totp: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return mfa.ErrNoPendingTOTP
	}
	return nil
}

func (s *Store) ActiveTOTP(ctx context.Context, userID string) ([]byte, int64, error) {
	if !account.IsUUID(userID) {
		return nil, 0, mfa.ErrTOTPNotEnrolled
	}
	var sealed []byte
	var last int64
	err := s.db(ctx).QueryRow(ctx, `select sealed_secret, last_step from mfa_totp where user_id = $1`, userID).Scan(&sealed, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, mfa.ErrTOTPNotEnrolled
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load totp: %w", err)
	}
	return sealed, last, nil
}

// UseTOTPStep moves last_step forward to step; it never moves it back, so a
// step is used at most once even by concurrent callers.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	if !account.IsUUID(userID) {
		return false, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `
		update mfa_totp set last_step = $2 where user_id = $1 and last_step < $2`, userID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteTOTP removes the user's authenticator and any pending setup.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	if !account.IsUUID(userID) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `
		with p as (delete from mfa_totp_pending where user_id = $1)
		delete from mfa_totp where user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("delete totp: %w", err)
	}
	return nil
}

// DeleteExpiredPendingTOTP removes setups that were never confirmed in time.
func (s *Store) DeleteExpiredPendingTOTP(ctx context.Context, now time.Time) (int64, error) {
	return s.purgeAll(ctx, []purgeStep{{what: "mfa_totp_pending", table: "mfa_totp_pending", where: `expires_at <= $1`, arg: now}})
}
