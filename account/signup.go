package account

import (
	"context"
	"errors"
	"fmt"
)

// SignUp creates an account from the signup form. A duplicate email answers
// ErrEmailTaken and counts as a failed attempt, so probing the signup form for
// registered addresses runs into the same limits as guessing passwords. A
// client IP past its signup limits gets *SignupLimitError, whatever the email.
func (s *Service) SignUp(ctx context.Context, email, name, plain string, m Meta) (User, error) {
	key := emailKey(email)
	if err := s.checkLimits(ctx, key, m.IP); err != nil {
		s.recordRefusal(ctx, err, email, m)
		return User{}, err
	}
	u, err := s.newUser(ctx, email, name, plain)
	if err != nil {
		return User{}, err
	}
	user, err := s.createCounted(ctx, u, m.IP)
	var limit *SignupLimitError
	if errors.As(err, &limit) {
		return User{}, s.signupRefused(ctx, err, email, m)
	}
	if errors.Is(err, ErrEmailTaken) {
		if ferr := s.recordFailure(ctx, key, m.IP); ferr != nil {
			return User{}, ferr
		}
		return User{}, err
	}
	if err != nil {
		return User{}, fmt.Errorf("sign up: %w", err)
	}
	s.record(ctx, Event{Type: EventSignup, UserID: user.ID, Subject: user.Email}, m)
	// The account exists either way; a mail that could not be queued (a limit,
	// an outage) can be asked for again from the account page.
	if err := s.SendVerification(ctx, user, m); err != nil {
		s.log.WarnContext(ctx, "verification mail not queued at signup", "user_id", user.ID, "err", err)
	}
	return user, nil
}

// ChangePassword replaces the password after checking the current one, under
// the same brute-force limits as a login (a stolen session must not become a
// password oracle). Every other session of the user ends: whoever knew the old
// password is logged out.
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
	if err := s.users.SetPasswordHash(ctx, user.ID, hash, s.now()); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ended, err := s.sessions.DeleteUserSessions(ctx, user.ID, sess.idHash)
	if err != nil {
		return fmt.Errorf("change password: end other sessions: %w", err)
	}
	s.record(ctx, Event{Type: EventPasswordChanged, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"sessions_ended": ended}}, m)
	return nil
}
