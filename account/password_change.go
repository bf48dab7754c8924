package account

import (
	"context"
	"errors"
	"fmt"
)

// Tokens is the storage a new password needs beyond Users and Sessions: one
// transaction for the change and everything it ends, the user's OAuth grants
// and their remembered browsers. InTx runs fn in one transaction that the
// other stores' methods called with its ctx join.
type Tokens interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// RevokeUserTokens deletes every OAuth code, access and refresh token
	// issued to the user.
	RevokeUserTokens(ctx context.Context, userID string) (int64, error)
	// DeleteTrustedBrowsers ends every "remember this browser" of the user.
	DeleteTrustedBrowsers(ctx context.Context, userID string) (int64, error)
}

// errNoTokenStore stops a password change that could not revoke the user's
// tokens: a password that changes while a stolen refresh token keeps working
// is worse than a refused change.
var errNoTokenStore = errors.New("no token store configured")

// newPassword is one new password as a path (the account page's change, a
// reset by link) hands it to setPassword.
type newPassword struct {
	user User
	hash string
	// keep is the session that made the change, which stays; nil ends all.
	keep []byte
	// event and details are the path's audit event and its own details;
	// setPassword adds what the change ended.
	event   string
	details map[string]any
	// first runs first in the transaction, for the path's own part of the
	// change; its error undoes everything.
	first func(ctx context.Context) error
}

// setPassword is the one way a password changes. In one transaction it stores
// the hash and ends what the old password opened: every browser session of
// the user but p.keep, every OAuth code, access and refresh token (an app
// holding a refresh token obtained with the old password must log in again)
// every remembered browser (whoever knew the old password may have ticked
// "remember", and must pass the second factor again) and every reset link
// still open. The owner's verified
// address is told in the same transaction, through the outbox, so a change
// is never silent; a mail limit that refuses the notice does not refuse the
// change. A failure anywhere leaves the old password and everything it
// opened as they were. The change is audited as p.event with the counts.
func (s *Service) setPassword(ctx context.Context, p newPassword, m Meta) (AccessEnded, error) {
	if s.tokens == nil {
		return AccessEnded{}, errNoTokenStore
	}
	var ended AccessEnded
	var resetLinks int64
	err := s.tokens.InTx(ctx, func(ctx context.Context) error {
		if p.first != nil {
			if err := p.first(ctx); err != nil {
				return err
			}
		}
		if err := s.users.SetPasswordHash(ctx, p.user.ID, p.hash, s.now()); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		var err error
		// A link mailed before this change must not undo it: whoever reads
		// that mailbox (a shared or forwarded inbox, one just taken back)
		// would otherwise set the password again.
		if s.email != nil {
			if resetLinks, err = s.email.EndPasswordResets(ctx, p.user.ID, s.now()); err != nil {
				return fmt.Errorf("end reset links: %w", err)
			}
		}
		if ended.Sessions, err = s.sessions.DeleteUserSessions(ctx, p.user.ID, p.keep); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if ended.Tokens, err = s.tokens.RevokeUserTokens(ctx, p.user.ID); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		if ended.Browsers, err = s.tokens.DeleteTrustedBrowsers(ctx, p.user.ID); err != nil {
			return fmt.Errorf("forget browsers: %w", err)
		}
		var limit *MailLimitError
		if err := s.AnnounceSecurityChange(ctx, p.user, ChangePasswordChanged, m); err != nil && !errors.As(err, &limit) {
			return err
		}
		return nil
	})
	if err != nil {
		return AccessEnded{}, err
	}
	details := map[string]any{"sessions_ended": ended.Sessions, "tokens_revoked": ended.Tokens,
		"browsers_forgotten": ended.Browsers, "reset_links_ended": resetLinks}
	for k, v := range p.details {
		details[k] = v
	}
	s.record(ctx, Event{Type: p.event, UserID: p.user.ID, Subject: p.user.Email, Details: details}, m)
	return ended, nil
}

// ChangePassword replaces the password after checking the current one, under
// the same brute-force limits as a login (a stolen session must not become a
// password oracle). Whoever knew the old password is shut out as after a
// reset (see setPassword), but the session that made the change stays.
func (s *Service) ChangePassword(ctx context.Context, sess Session, current, next string, m Meta) error {
	user, err := s.users.UserByID(ctx, sess.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	key := emailKey(user.Email)
	attempt, err := s.takeAttempt(ctx, key, m.IP)
	if err != nil {
		s.recordRefusal(ctx, err, user.Email, m)
		return err
	}
	ok := false
	if user.PasswordHash != "" {
		if ok, _, err = s.hasher.Verify(ctx, current, user.PasswordHash); err != nil {
			err = fmt.Errorf("change password: verify current: %w", err)
			return errors.Join(err, s.undoAttempt(ctx, attempt))
		}
	}
	if !ok {
		return ErrInvalidCredentials
	}
	// The right current password is no failure; as before, it does not
	// clear the pair's count either.
	if err := s.undoAttempt(ctx, attempt); err != nil {
		return err
	}
	if err := s.policy.Check(next, contextWords(user.Email)...); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: hash: %w", err)
	}
	_, err = s.setPassword(ctx, newPassword{user: user, hash: hash, keep: sess.idHash, event: EventPasswordChanged}, m)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}
