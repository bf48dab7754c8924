package store

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired removes rows that can no longer matter at now: ended sessions,
// brute-force counters older than any window that reads them, expired OAuth2
// codes and tokens, and setups and passkey ceremonies left unfinished. It
// reports how many rows went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, counterAge time.Duration) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql string
		arg time.Time
	}{
		{`delete from sessions where idle_expires_at <= $1 or expires_at <= $1`, now},
		{`delete from login_failures where last_failure_at <= $1`, now.Add(-counterAge)},
		{`delete from ip_login_failures where hour <= $1`, now.Add(-counterAge)},
		// A used code is kept until it expires so that its replay revokes the grant.
		{`delete from oauth2_tokens where kind <> 'refresh' and expires_at <= $1`, now},
		// Past its own expiry a refresh token can only be refused, rotated or not.
		{`delete from oauth2_tokens where kind = 'refresh' and (family_expires_at <= $1 or expires_at <= $1)`, now},
		{`delete from login_transactions where expires_at <= $1`, now},
		{`delete from mfa_trusted_browsers where expires_at <= $1`, now},
		{`delete from mfa_totp_pending where expires_at <= $1`, now},
		{`delete from webauthn_ceremonies where expires_at <= $1`, now},
	} {
		tag, err := s.db(ctx).Exec(ctx, q.sql, q.arg)
		if err != nil {
			return total, fmt.Errorf("delete expired rows: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}
