package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

const trustedBrowserColumns = `id::text, user_id::text, created_at, expires_at, last_used_at, created_ip, user_agent`

func scanTrustedBrowser(row pgx.Row) (mfa.TrustedBrowser, error) {
	var b mfa.TrustedBrowser
	var ip *netip.Addr
	err := row.Scan(&b.ID, &b.UserID, &b.CreatedAt, &b.ExpiresAt, &b.LastUsedAt, &ip, &b.UserAgent)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.TrustedBrowser{}, mfa.ErrNotTrusted
	}
	if err != nil {
		return mfa.TrustedBrowser{}, err
	}
	if ip != nil {
		b.CreatedIP = *ip
	}
	return b, nil
}

func (s *Store) CreateTrustedBrowser(ctx context.Context, tokenHash []byte, b mfa.TrustedBrowser) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into mfa_trusted_browsers (id, user_id, token_hash, created_at, expires_at, last_used_at, created_ip, user_agent)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		b.ID, b.UserID, tokenHash, b.CreatedAt, b.ExpiresAt, b.LastUsedAt, inet(b.CreatedIP), b.UserAgent)
	if err != nil {
		return fmt.Errorf("insert trusted browser: %w", err)
	}
	return nil
}

func (s *Store) TrustedBrowserByHash(ctx context.Context, tokenHash []byte, now time.Time) (mfa.TrustedBrowser, error) {
	b, err := scanTrustedBrowser(s.db(ctx).QueryRow(ctx, `
		select `+trustedBrowserColumns+` from mfa_trusted_browsers
		where token_hash = $1 and expires_at > $2`, tokenHash, now))
	if err != nil && !errors.Is(err, mfa.ErrNotTrusted) {
		return b, fmt.Errorf("load trusted browser: %w", err)
	}
	return b, err
}

// TouchTrustedBrowser never moves last use backwards, so a slow request does
// not undo a later one.
func (s *Store) TouchTrustedBrowser(ctx context.Context, id string, now time.Time) error {
	if !account.IsUUID(id) {
		return nil
	}
	_, err := s.db(ctx).Exec(ctx, `
		update mfa_trusted_browsers set last_used_at = $2 where id = $1 and last_used_at < $2`, id, now)
	if err != nil {
		return fmt.Errorf("touch trusted browser: %w", err)
	}
	return nil
}

func (s *Store) ListTrustedBrowsers(ctx context.Context, userID string, now time.Time) ([]mfa.TrustedBrowser, error) {
	if !account.IsUUID(userID) {
		return nil, nil
	}
	rows, err := s.db(ctx).Query(ctx, `
		select `+trustedBrowserColumns+` from mfa_trusted_browsers
		where user_id = $1 and expires_at > $2
		order by created_at desc, id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list trusted browsers: %w", err)
	}
	defer rows.Close()
	var bs []mfa.TrustedBrowser
	for rows.Next() {
		b, err := scanTrustedBrowser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan trusted browser: %w", err)
		}
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list trusted browsers: %w", err)
	}
	return bs, nil
}

func (s *Store) DeleteTrustedBrowser(ctx context.Context, userID, id string) (bool, error) {
	if !account.IsUUID(userID) || !account.IsUUID(id) {
		return false, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from mfa_trusted_browsers where id = $1 and user_id = $2`, id, userID)
	if err != nil {
		return false, fmt.Errorf("delete trusted browser: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Store) DeleteTrustedBrowsers(ctx context.Context, userID string) (int64, error) {
	if !account.IsUUID(userID) {
		return 0, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from mfa_trusted_browsers where user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete trusted browsers of user: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DeleteExpiredTrustedBrowsers removes browsers whose trust has run out.
func (s *Store) DeleteExpiredTrustedBrowsers(ctx context.Context, now time.Time) (int64, error) {
	return s.purgeAll(ctx, []purgeStep{{what: "mfa_trusted_browsers", table: "mfa_trusted_browsers", where: `expires_at <= $1`, arg: now}})
}
