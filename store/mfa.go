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

const challengeColumns = `id::text, user_id::text, tx_id, purpose, phone_sealed, phone_lookup, masked,
	country_code, app_name, issuer_host, code_hash, attempts, sends,
	created_at, expires_at, last_sent_at, used_at, ended_at`

func scanChallenge(row pgx.Row) (mfa.Challenge, error) {
	var c mfa.Challenge
	var used, ended *time.Time
	err := row.Scan(&c.ID, &c.UserID, &c.TxID, &c.Purpose, &c.PhoneSealed, &c.PhoneLookup, &c.Masked,
		&c.CountryCode, &c.AppName, &c.IssuerHost, &c.CodeHash, &c.Attempts, &c.Sends,
		&c.CreatedAt, &c.ExpiresAt, &c.LastSentAt, &used, &ended)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.Challenge{}, mfa.ErrChallengeNotFound
	}
	if err != nil {
		return mfa.Challenge{}, err
	}
	if used != nil {
		c.UsedAt = *used
	}
	if ended != nil {
		c.EndedAt = *ended
	}
	return c, nil
}

func (s *Store) CreateMFAChallenge(ctx context.Context, c mfa.Challenge) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into mfa_challenges (id, user_id, tx_id, purpose, phone_sealed, phone_lookup, masked,
			country_code, app_name, issuer_host, code_hash, attempts, sends, created_at, expires_at, last_sent_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.UserID, c.TxID, c.Purpose, c.PhoneSealed, c.PhoneLookup, c.Masked,
		c.CountryCode, c.AppName, c.IssuerHost, c.CodeHash, c.Attempts, c.Sends, c.CreatedAt, c.ExpiresAt, c.LastSentAt)
	if err != nil {
		return fmt.Errorf("insert mfa challenge: %w", err)
	}
	return nil
}

func (s *Store) MFAChallenge(ctx context.Context, id string) (mfa.Challenge, error) {
	if !account.IsUUID(id) {
		return mfa.Challenge{}, mfa.ErrChallengeNotFound
	}
	c, err := scanChallenge(s.db(ctx).QueryRow(ctx, `select `+challengeColumns+` from mfa_challenges where id = $1`, id))
	if err != nil && !errors.Is(err, mfa.ErrChallengeNotFound) {
		return c, fmt.Errorf("load mfa challenge: %w", err)
	}
	return c, err
}

// UseMFAChallenge is one conditional update: of concurrent callers, the first
// to commit sets used_at and the others find it set.
func (s *Store) UseMFAChallenge(ctx context.Context, id string, codeHash []byte, now time.Time) (bool, error) {
	if !account.IsUUID(id) {
		return false, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `
		update mfa_challenges set used_at = $3
		where id = $1 and code_hash = $2 and used_at is null and ended_at is null and expires_at > $3`,
		id, codeHash, now)
	if err != nil {
		return false, fmt.Errorf("use mfa challenge: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Store) AddMFAAttempt(ctx context.Context, id string, maxAttempts int, now time.Time) (int, bool, error) {
	if !account.IsUUID(id) {
		return 0, false, nil
	}
	var attempts int
	err := s.db(ctx).QueryRow(ctx, `
		update mfa_challenges set
			attempts = attempts + 1,
			ended_at = case when attempts + 1 >= $2 then $3::timestamptz end
		where id = $1 and used_at is null and ended_at is null and expires_at > $3
		returning attempts`, id, maxAttempts, now).Scan(&attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("count mfa attempt: %w", err)
	}
	return attempts, true, nil
}

func (s *Store) RenewMFAChallenge(ctx context.Context, id string, codeHash []byte, now, expiresAt, sentBefore time.Time) (mfa.Challenge, bool, error) {
	if !account.IsUUID(id) {
		return mfa.Challenge{}, false, nil
	}
	c, err := scanChallenge(s.db(ctx).QueryRow(ctx, `
		update mfa_challenges set code_hash = $2, last_sent_at = $3, expires_at = $4, sends = sends + 1
		where id = $1 and used_at is null and ended_at is null and last_sent_at <= $5
		returning `+challengeColumns, id, codeHash, now, expiresAt, sentBefore))
	if errors.Is(err, mfa.ErrChallengeNotFound) {
		return mfa.Challenge{}, false, nil
	}
	if err != nil {
		return mfa.Challenge{}, false, fmt.Errorf("renew mfa challenge: %w", err)
	}
	return c, true, nil
}

func (s *Store) PassedMFAEnrollment(ctx context.Context, userID string, phoneLookup []byte, since time.Time) (bool, error) {
	if !account.IsUUID(userID) {
		return false, nil
	}
	var ok bool
	err := s.db(ctx).QueryRow(ctx, `
		select exists (
			select 1 from mfa_challenges
			where user_id = $1 and phone_lookup = $2 and purpose = 'enroll' and used_at >= $3
		)`, userID, phoneLookup, since).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("find passed mfa enrollment: %w", err)
	}
	return ok, nil
}

// DeleteExpiredMFA removes send counters whose window has ended and challenges
// a day past their expiry (kept that long as a trail for support and fraud
// review). Failure counters stay: only a success or an admin reset clears them.
func (s *Store) DeleteExpiredMFA(ctx context.Context, now time.Time) (int64, error) {
	return s.purgeAll(ctx, mfaSteps(now))
}

func mfaSteps(now time.Time) []purgeStep {
	return []purgeStep{
		{what: "sms_send_counters", table: "sms_send_counters", where: `window_end <= $1`, arg: now},
		{what: "mfa_challenges", table: "mfa_challenges", where: `expires_at <= $1`, arg: now.Add(-24 * time.Hour)},
	}
}
