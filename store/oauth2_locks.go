package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Revocation and issuance of a user's tokens take turns. Ending every token of
// a user (a password change, a block, "log out everywhere") deletes the rows
// it can see; a refresh or a code exchange committing a new token a moment
// later would otherwise outlive it. Both sides take a transaction-scoped
// advisory lock on the subject first, and a revocation of one grant and the
// rotation of its refresh token one on the grant, always in that order, so a
// revocation sees every token issued before it and the issuing after it finds
// its token gone.

func lockKey(ctx context.Context, s *Store, key string) error {
	if _, err := s.db(ctx).Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

func lockSubjectTokens(ctx context.Context, s *Store, subject string) error {
	return lockKey(ctx, s, "oauth subject:"+subject)
}

func lockGrant(ctx context.Context, s *Store, requestID string) error {
	return lockKey(ctx, s, "oauth grant:"+requestID)
}

// lockTokenOwner locks the subject of the token stored under key, if it is
// still there, and with grant its grant too. Finding the owner and locking
// the subject are one statement (the lock is taken as the row is read, before
// the grant's, keeping the order).
func lockTokenOwner(ctx context.Context, s *Store, kind tokenKind, key string, grant bool) error {
	var requestID string
	err := s.db(ctx).QueryRow(ctx, `
		select request_id, pg_advisory_xact_lock(hashtextextended('oauth subject:' || subject, 0))
		from oauth2_tokens where kind = $1 and signature = $2`,
		string(kind), key).Scan(&requestID, nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // gone: the statement that follows finds nothing to act on
	}
	if err != nil {
		return fmt.Errorf("find and lock token owner: %w", err)
	}
	if grant {
		return lockGrant(ctx, s, requestID)
	}
	return nil
}

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
