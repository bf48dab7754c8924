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
	// A malformed address is refused before any counter keyed by it is
	// read: Postgres text cannot hold what it may contain (NUL).
	if _, err := NormalizeEmail(email); err != nil {
		return User{}, err
	}
	key := emailKey(email)
	attempt, err := s.takeAttempt(ctx, key, m.IP)
	if err != nil {
		s.recordRefusal(ctx, err, email, m)
		return User{}, err
	}
	user, err := s.signUpCounted(ctx, email, name, plain, m)
	if errors.Is(err, ErrEmailTaken) {
		return User{}, err
	}
	// Anything but a taken address is no failed attempt.
	if uerr := s.undoAttempt(ctx, attempt); uerr != nil {
		return User{}, errors.Join(err, uerr)
	}
	if err != nil {
		return User{}, err
	}
	s.record(ctx, Event{Type: EventSignup, UserID: user.ID, Subject: user.Email}, m)
	// The account exists either way; a mail that could not be queued (a limit,
	// an outage) can be asked for again from the account page.
	if err := s.SendVerification(ctx, user, m); err != nil {
		s.log.WarnContext(ctx, "verification mail not queued at signup", "user_id", user.ID, "err", err)
	}
	return user, nil
}

// signUpCounted creates the account under the signup limits of the address.
func (s *Service) signUpCounted(ctx context.Context, email, name, plain string, m Meta) (User, error) {
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
		return User{}, err
	}
	if err != nil {
		return User{}, fmt.Errorf("sign up: %w", err)
	}
	return user, nil
}
