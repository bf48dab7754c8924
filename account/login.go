package account

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Login checks an email and password. It answers ErrInvalidCredentials for an
// unknown email and for a wrong password alike, after spending the same hashing
// time on both; *LockedError and *ThrottledError before any hashing when the
// brute-force limits apply (each attempt is counted as a failure before its
// hashing and taken back when the password is right); ErrBlocked only after the right password, so that a
// blocked account is not revealed to someone who does not know its password.
func (s *Service) Login(ctx context.Context, email, plain string, m Meta) (User, error) {
	key := emailKey(email)
	attempt, err := s.takeAttempt(ctx, key, m.IP)
	if err != nil {
		s.recordRefusal(ctx, err, email, m)
		return User{}, err
	}
	user, err := s.verify(ctx, email, plain, m)
	if errors.Is(err, ErrInvalidCredentials) {
		e := Event{Type: EventLoginFailed, UserID: user.ID, Subject: key}
		s.record(ctx, e, m)
		return User{}, err
	}
	if err != nil {
		return User{}, errors.Join(err, s.undoAttempt(ctx, attempt))
	}
	if err := s.succeeded(ctx, attempt); err != nil {
		return User{}, err
	}
	return s.admit(ctx, user, map[string]any{"amr": []string{"pwd"}}, m)
}

// admit lets in a user whose credentials checked out, unless blocked, and
// records the login with details.
func (s *Service) admit(ctx context.Context, user User, details map[string]any, m Meta) (User, error) {
	if user.Blocked {
		s.record(ctx, Event{Type: EventLoginBlocked, UserID: user.ID, Subject: user.Email}, m)
		return User{}, ErrBlocked
	}
	if err := s.users.RecordLogin(ctx, user.ID, s.now()); err != nil {
		return User{}, fmt.Errorf("record login: %w", err)
	}
	s.record(ctx, Event{Type: EventLoginSucceeded, UserID: user.ID, Subject: user.Email, Details: details}, m)
	return user, nil
}

// verify finds the user and checks the password, upgrading an outdated hash
// (bcrypt from an Auth0 export, or weaker argon2id parameters) on success. On
// ErrInvalidCredentials the returned User carries the ID when the account exists.
func (s *Service) verify(ctx context.Context, email, plain string, m Meta) (User, error) {
	user, err := s.users.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) || (err == nil && user.PasswordHash == "") {
		s.hasher.Equalize(ctx, plain)
		return User{ID: user.ID}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("find user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, plain, user.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("verify password of user %s: %w", user.ID, err)
	}
	if !ok {
		return User{ID: user.ID}, ErrInvalidCredentials
	}
	if rehash {
		s.upgradeHash(ctx, user, plain, m)
	}
	return user, nil
}

// upgradeHash re-hashes with the current parameters. A failure leaves the old,
// still valid hash in place and the login proceeds.
func (s *Service) upgradeHash(ctx context.Context, user User, plain string, m Meta) {
	hash, err := s.hasher.Hash(ctx, plain)
	if err == nil {
		err = s.users.SetPasswordHash(ctx, user.ID, hash, time.Time{})
	}
	if err != nil {
		s.log.WarnContext(ctx, "password rehash failed", "user_id", user.ID, "err", err)
		return
	}
	s.record(ctx, Event{Type: EventPasswordRehash, UserID: user.ID, Subject: user.Email}, m)
}

func (s *Service) recordRefusal(ctx context.Context, err error, email string, m Meta) {
	var locked *LockedError
	e := Event{Type: EventLoginThrottled, Subject: emailKey(email)}
	if errors.As(err, &locked) {
		e.Type = EventLoginLocked
		e.Details = map[string]any{"until": locked.Until}
	}
	s.record(ctx, e, m)
}

// LoginWithPasskey admits the user a user-verifying passkey named: no
// password is asked, and none of the password's failure counters apply, since
// nothing was guessed. A blocked user is refused as at the password.
func (s *Service) LoginWithPasskey(ctx context.Context, userID, method string, m Meta) (User, error) {
	user, err := s.users.UserByID(ctx, userID)
	if err != nil {
		return User{}, fmt.Errorf("passkey login: %w", err)
	}
	return s.admit(ctx, user, map[string]any{"amr": []string{method, "mfa"}, "passkey": true}, m)
}
