package account

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tokens is the storage a new password needs beyond Users and Sessions: one
// transaction for the change and everything it ends, and the user's OAuth
// grants. InTx runs fn in one transaction that the other stores' methods
// called with its ctx join.
type Tokens interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// RevokeUserTokens deletes every OAuth code, access and refresh token
	// issued to the user.
	RevokeUserTokens(ctx context.Context, userID string) (int64, error)
}

// errNoTokenStore stops a password change that could not revoke the user's
// tokens: a password that changes while a stolen refresh token keeps working
// is worse than a refused change.
var errNoTokenStore = errors.New("no token store configured")

// replaced counts what a new password ended.
type replaced struct {
	sessions, tokens int64
}

// replacePassword stores the new hash and, in the same transaction, ends what
// the old password opened: every browser session of the user but keep (nil
// ends all) and every OAuth code, access and refresh token, so an app holding
// a refresh token obtained with the old password must log in again. more runs
// first in that transaction, for the caller's own part of the change; its
// error undoes everything.
func (s *Service) replacePassword(ctx context.Context, userID, hash string, keep []byte, now time.Time,
	more func(ctx context.Context) error) (replaced, error) {
	if s.tokens == nil {
		return replaced{}, errNoTokenStore
	}
	var r replaced
	err := s.tokens.InTx(ctx, func(ctx context.Context) error {
		if more != nil {
			if err := more(ctx); err != nil {
				return err
			}
		}
		if err := s.users.SetPasswordHash(ctx, userID, hash, now); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		var err error
		if r.sessions, err = s.sessions.DeleteUserSessions(ctx, userID, keep); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if r.tokens, err = s.tokens.RevokeUserTokens(ctx, userID); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
	return r, err
}

// ChangePassword replaces the password after checking the current one, under
// the same brute-force limits as a login (a stolen session must not become a
// password oracle). Whoever knew the old password is logged out: every other
// session of the user ends and every OAuth token is revoked, in the same
// transaction that stores the new password, as a reset does.
func (s *Service) ChangePassword(ctx context.Context, sess Session, current, next string, m Meta) error {
	user, err := s.users.UserByID(ctx, sess.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	key := emailKey(user.Email)
	if err := s.checkLimits(ctx, key, m.IP); err != nil {
		s.recordRefusal(ctx, err, user.Email, m)
		return err
	}
	ok := false
	if user.PasswordHash != "" {
		if ok, _, err = s.hasher.Verify(ctx, current, user.PasswordHash); err != nil {
			return fmt.Errorf("change password: verify current: %w", err)
		}
	}
	if !ok {
		if err := s.recordFailure(ctx, key, m.IP); err != nil {
			return err
		}
		return ErrInvalidCredentials
	}
	if err := s.policy.Check(next, contextWords(user.Email)...); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: hash: %w", err)
	}
	ended, err := s.replacePassword(ctx, user.ID, hash, sess.idHash, s.now(), nil)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.record(ctx, Event{Type: EventPasswordChanged, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"sessions_ended": ended.sessions, "tokens_revoked": ended.tokens}}, m)
	return nil
}
