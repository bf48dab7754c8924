package store

import (
	"context"
	"fmt"
)

// Revocation and issuance of a user's tokens take turns. Ending every token of
// a user (a password change, a block, "log out everywhere") deletes the rows
// it can see; a refresh or a code exchange committing a new token a moment
// later would otherwise outlive it. Both sides take a transaction-scoped
// advisory lock on the subject first, and a revocation of one grant and the
// rotation of its refresh token one on the grant, always in that order, so a
// revocation sees every token issued before it and the issuing after it finds
// its token gone. A rotation and a code's redemption take their locks in
// the statement that changes the token (RotateRefreshToken,
// InvalidateAuthorizeCodeSession), found through the token's row.

func lockKey(ctx context.Context, s *Store, key string) error {
	if _, err := s.db(ctx).Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

func lockSubjectTokens(ctx context.Context, s *Store, subject string) error {
	return lockKey(ctx, s, "oauth subject:"+subject)
}

func grantLockKey(requestID string) string { return "oauth grant:" + requestID }

// deleteSubjectTokens deletes every token of the subject under its lock.
func (s *Store) deleteSubjectTokens(ctx context.Context, subject string) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := lockSubjectTokens(ctx, s, subject); err != nil {
			return err
		}
		tag, err := s.db(ctx).Exec(ctx, `delete from oauth2_tokens where subject = $1`, subject)
		if err != nil {
			return oauth2DBError("delete user tokens", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}
