package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

var _ account.EmailStore = (*Store)(nil)

func (s *Store) CreateEmailVerification(ctx context.Context, v account.Verification) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into email_verifications (token_hash, user_id, email, created_at, expires_at)
		values ($1, $2, $3, $4, $5)`, v.TokenHash, v.UserID, v.Email, v.CreatedAt, v.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert email verification: %w", err)
	}
	return nil
}

// EmailVerificationSent counts expired links until the janitor deletes them;
// after that the account page offers to send one again.
func (s *Store) EmailVerificationSent(ctx context.Context, userID, email string) (bool, error) {
	if !account.IsUUID(userID) {
		return false, nil
	}
	var sent bool
	err := s.db(ctx).QueryRow(ctx, `
		select exists (select 1 from email_verifications where user_id = $1 and lower(email) = lower($2))`,
		userID, email).Scan(&sent)
	if err != nil {
		return false, fmt.Errorf("look up email verifications: %w", err)
	}
	return sent, nil
}

func (s *Store) EmailVerification(ctx context.Context, tokenHash []byte) (account.Verification, error) {
	var v account.Verification
	var used *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select token_hash, user_id::text, email, created_at, expires_at, used_at
		from email_verifications where token_hash = $1`, tokenHash).
		Scan(&v.TokenHash, &v.UserID, &v.Email, &v.CreatedAt, &v.ExpiresAt, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, account.ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("load email verification: %w", err)
	}
	if used != nil {
		v.UsedAt = *used
	}
	return v, nil
}

// UseEmailVerification uses the link and verifies the address in one
// statement, so that of concurrent requests one wins, and a link sent to an
// address the user has since changed verifies nothing.
func (s *Store) UseEmailVerification(ctx context.Context, tokenHash []byte, now time.Time) (bool, error) {
	var ok bool
	err := s.db(ctx).QueryRow(ctx, `
		with used as (
			update email_verifications v set used_at = $2
			from users u
			where v.token_hash = $1 and v.used_at is null and v.expires_at > $2
				and u.id = v.user_id and lower(u.email) = lower(v.email)
			returning v.user_id
		), verified as (
			update users set email_verified = true, updated_at = $2
			where id in (select user_id from used)
			returning 1
		)
		select exists (select 1 from verified)`, tokenHash, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("use email verification: %w", err)
	}
	return ok, nil
}

func (s *Store) SetEmailVerified(ctx context.Context, userID string, verified bool) error {
	if !account.IsUUID(userID) {
		return account.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `update users set email_verified = $2, updated_at = now() where id = $1`, userID, verified)
	if err != nil {
		return fmt.Errorf("set email verified: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

func (s *Store) CreatePasswordReset(ctx context.Context, r account.Reset) (string, error) {
	var id string
	err := s.db(ctx).QueryRow(ctx, `
		insert into password_resets (token_hash, user_id, ip, created_at, expires_at)
		values ($1, $2, $3, $4, $5) returning id::text`, r.TokenHash, r.UserID, inet(r.IP), r.CreatedAt, r.ExpiresAt).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert password reset: %w", err)
	}
	return id, nil
}

func (s *Store) PasswordReset(ctx context.Context, tokenHash []byte) (account.Reset, error) {
	var r account.Reset
	var second, used *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select id::text, token_hash, user_id::text, created_at, expires_at, challenge_id, second_factor_at, used_at
		from password_resets where token_hash = $1`, tokenHash).
		Scan(&r.ID, &r.TokenHash, &r.UserID, &r.CreatedAt, &r.ExpiresAt, &r.ChallengeID, &second, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, account.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("load password reset: %w", err)
	}
	if second != nil {
		r.SecondFactorAt = *second
	}
	if used != nil {
		r.UsedAt = *used
	}
	return r, nil
}

func (s *Store) SetResetChallenge(ctx context.Context, id, challengeID string) error {
	_, err := s.db(ctx).Exec(ctx, `update password_resets set challenge_id = $2 where id = $1`, id, challengeID)
	if err != nil {
		return fmt.Errorf("set reset challenge: %w", err)
	}
	return nil
}

func (s *Store) PassResetSecondFactor(ctx context.Context, id string, now time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		update password_resets set second_factor_at = coalesce(second_factor_at, $2) where id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("pass reset second factor: %w", err)
	}
	return nil
}

func (s *Store) UsePasswordReset(ctx context.Context, id string, now time.Time) (bool, error) {
	tag, err := s.db(ctx).Exec(ctx, `
		update password_resets set used_at = $2
		where id = $1 and used_at is null and expires_at > $2`, id, now)
	if err != nil {
		return false, fmt.Errorf("use password reset: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Store) EndPasswordResets(ctx context.Context, userID string, now time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `
		update password_resets set used_at = $2
		where user_id = $1 and used_at is null and expires_at > $2`, userID, now)
	if err != nil {
		return 0, fmt.Errorf("end password resets: %w", err)
	}
	return tag.RowsAffected(), nil
}

// RevokeUserTokens deletes every code, access and refresh token whose subject
// is the user, in every client's grants.
func (s *Store) RevokeUserTokens(ctx context.Context, userID string) (int64, error) {
	n, err := s.deleteSubjectTokens(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("revoke user tokens: %w", err)
	}
	return n, nil
}

// DeleteExpiredEmail removes links a week past their expiry: until then an
// old link is refused as expired rather than unknown.
func (s *Store) DeleteExpiredEmail(ctx context.Context, now time.Time) (int64, error) {
	return s.purgeAll(ctx, emailSteps(now))
}

func emailSteps(now time.Time) []purgeStep {
	week := now.Add(-7 * 24 * time.Hour)
	return []purgeStep{
		{what: "email_verifications", table: "email_verifications", where: `expires_at <= $1`, arg: week},
		{what: "password_resets", table: "password_resets", where: `expires_at <= $1`, arg: week},
	}
}
