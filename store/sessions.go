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

func (s *Store) CreateSession(ctx context.Context, sess account.Session) error {
	const sql = `
		insert into sessions (id_hash, user_id, auth_time, amr, ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at,
			second_factor_at, passkey_at)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	args := []any{sess.IDHash(), sess.UserID, sess.AuthTime, sess.AMR, inet(sess.IP), sess.UserAgent,
		sess.CreatedAt, sess.LastSeenAt, sess.IdleExpiresAt, sess.ExpiresAt, nullTime(sess.SecondFactorAt), nullTime(sess.PasskeyAt)}
	if deferWrite(ctx, sql, args...) {
		return nil
	}
	if _, err := s.db(ctx).Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

func (s *Store) SessionByHash(ctx context.Context, idHash []byte, now time.Time) (account.Session, error) {
	var sess account.Session
	var ip *netip.Addr
	var secondFactorAt, passkeyAt *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select user_id::text, auth_time, amr, ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at, risk_decision,
			second_factor_at, passkey_at
		from sessions
		where id_hash = $1 and idle_expires_at > $2 and expires_at > $2`, idHash, now).
		Scan(&sess.UserID, &sess.AuthTime, &sess.AMR, &ip, &sess.UserAgent,
			&sess.CreatedAt, &sess.LastSeenAt, &sess.IdleExpiresAt, &sess.ExpiresAt, &sess.RiskDecision, &secondFactorAt, &passkeyAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.Session{}, account.ErrNotFound
	}
	if err != nil {
		return account.Session{}, fmt.Errorf("session by hash: %w", err)
	}
	if ip != nil {
		sess.IP = *ip
	}
	if secondFactorAt != nil {
		sess.SecondFactorAt = *secondFactorAt
	}
	if passkeyAt != nil {
		sess.PasskeyAt = *passkeyAt
	}
	return sess.WithIDHash(idHash), nil
}

func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen, idleExpires time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		update sessions set last_seen_at = $2, idle_expires_at = $3 where id_hash = $1`,
		idHash, lastSeen, idleExpires)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := s.db(ctx).Exec(ctx, `delete from sessions where id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *Store) DeleteUserSessions(ctx context.Context, userID string, keep []byte) (int64, error) {
	if !account.IsUUID(userID) {
		return 0, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `
		delete from sessions where user_id = $1 and ($2::bytea is null or id_hash <> $2)`, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete user sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Store) RenewSession(ctx context.Context, oldHash, newHash []byte, amr []string, at, passkeyAt time.Time) error {
	tag, err := s.db(ctx).Exec(ctx, `
		update sessions set id_hash = $2, amr = $3, second_factor_at = $4, passkey_at = $5 where id_hash = $1`,
		oldHash, newHash, amr, at, nullTime(passkeyAt))
	if err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// UserSessions lists the user's live sessions at now, most recently used first.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]account.Session, error) {
	if !account.IsUUID(userID) {
		return nil, nil
	}
	rows, err := s.db(ctx).Query(ctx, `
		select id_hash, user_id::text, auth_time, amr, ip, user_agent, created_at, last_seen_at, idle_expires_at, expires_at
		from sessions
		where user_id = $1 and idle_expires_at > $2 and expires_at > $2
		order by last_seen_at desc`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list user sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.Session, error) {
		var sess account.Session
		var h []byte
		var ip *netip.Addr
		err := r.Scan(&h, &sess.UserID, &sess.AuthTime, &sess.AMR, &ip, &sess.UserAgent,
			&sess.CreatedAt, &sess.LastSeenAt, &sess.IdleExpiresAt, &sess.ExpiresAt)
		if ip != nil {
			sess.IP = *ip
		}
		return sess.WithIDHash(h), err
	})
}

func (s *Store) SetSessionRiskDecision(ctx context.Context, idHash []byte, decision string) error {
	if _, err := s.db(ctx).Exec(ctx, `update sessions set risk_decision = $2 where id_hash = $1`, idHash, decision); err != nil {
		return fmt.Errorf("set session risk decision: %w", err)
	}
	return nil
}
