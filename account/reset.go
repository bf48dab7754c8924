package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrSecondFactorRequired means the user has a second factor and has not
// passed it for this reset yet: the password must not change before.
var ErrSecondFactorRequired = errors.New("second factor required before the password is reset")

// Reset is one password reset: its own small state, never a login session.
//
//	RequestPasswordReset ─► reset row + mail (one transaction)
//	link opened ─► second factor? ─ yes ─► challenge passed ─► SecondFactorAt
//	                   └─ no ──────────────────────────────────┐
//	CompletePasswordReset ◄────────────────────────────────────┘
//	  new password, every session, token and remembered browser ended, row used
type Reset struct {
	ID             string
	TokenHash      []byte
	UserID         string
	IP             netip.Addr
	CreatedAt      time.Time
	ExpiresAt      time.Time
	ChallengeID    string    // the SMS challenge started for this reset, if any
	SecondFactorAt time.Time // zero until the second factor passed
	UsedAt         time.Time // zero until the password was set
}

// Resets stores password resets.
type Resets interface {
	// CreatePasswordReset stores a new reset and returns its id.
	CreatePasswordReset(ctx context.Context, r Reset) (string, error)
	// PasswordReset returns the reset or ErrNotFound.
	PasswordReset(ctx context.Context, tokenHash []byte) (Reset, error)
	SetResetChallenge(ctx context.Context, id, challengeID string) error
	PassResetSecondFactor(ctx context.Context, id string, now time.Time) error
	// UsePasswordReset marks the reset used if at now it is unused and
	// unexpired; it reports whether this call did, so one of concurrent
	// callers wins.
	UsePasswordReset(ctx context.Context, id string, now time.Time) (bool, error)
	// EndPasswordResets marks every unused reset of the user used at now and
	// reports how many it ended.
	EndPasswordResets(ctx context.Context, userID string, now time.Time) (int64, error)
}

// SecondFactors tells whether a user has a second factor (a verified phone
// or an authenticator app); package mfa's Service implements it.
type SecondFactors interface {
	HasSecondFactor(ctx context.Context, userID string) (bool, error)
}

// RequestPasswordReset mails a reset link to the address if it has an
// account that may log in. The answer is the same whether or not it has: nil,
// or a *MailLimitError counted the same way for every address, so neither the
// answer nor the limits tell whether an account exists.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, m Meta) error {
	defer answerNoSoonerThan(ctx, time.Now().Add(s.emailRules.ResetAnswerAfter))
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if s.email == nil || s.mailer == nil {
		return nil
	}
	now := s.now()
	var sent *Reset
	err = s.email.InTx(ctx, func(ctx context.Context) error {
		if err := s.takeMailSends(ctx, email, m, now); err != nil {
			return err
		}
		user, err := s.users.UserByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) || (err == nil && user.Blocked) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		token, hash := newLinkToken()
		r := Reset{TokenHash: hash, UserID: user.ID, IP: m.IP, CreatedAt: now, ExpiresAt: now.Add(s.emailRules.ResetFor)}
		if r.ID, err = s.email.CreatePasswordReset(ctx, r); err != nil {
			return fmt.Errorf("store password reset: %w", err)
		}
		sent = &r
		return s.mailer.Enqueue(ctx, Mail{Purpose: MailReset, UserID: user.ID, To: user.Email, Token: token,
			ValidFor: s.emailRules.ResetFor, ExpiresAt: r.ExpiresAt})
	})
	if err != nil {
		return s.mailRefused(ctx, err, email, m)
	}
	e := Event{Type: EventResetRequested, Subject: emailKey(email), Details: map[string]any{"account": sent != nil}}
	if sent != nil {
		e.UserID = sent.UserID
		e.Details["reset_id"] = sent.ID
	}
	s.record(ctx, e, m)
	return nil
}

// answerNoSoonerThan waits until the wall clock reaches at, or ctx ends. It
// reads the real clock, not the service's: the point is what an observer
// measures.
func answerNoSoonerThan(ctx context.Context, at time.Time) {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// OpenPasswordReset finds the open reset of a link, and its user.
// ErrLinkInvalid, ErrLinkExpired and ErrLinkUsed say why not.
func (s *Service) OpenPasswordReset(ctx context.Context, token string) (Reset, User, error) {
	if s.email == nil {
		return Reset{}, User{}, ErrLinkInvalid
	}
	hash, err := linkHash(token)
	if err != nil {
		return Reset{}, User{}, err
	}
	r, err := s.email.PasswordReset(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return Reset{}, User{}, ErrLinkInvalid
	}
	if err != nil {
		return Reset{}, User{}, fmt.Errorf("find password reset: %w", err)
	}
	if err := linkState(r.UsedAt, r.ExpiresAt, s.now()); err != nil {
		return Reset{}, User{}, err
	}
	user, err := s.users.UserByID(ctx, r.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && user.Blocked) {
		return Reset{}, User{}, ErrLinkInvalid
	}
	if err != nil {
		return Reset{}, User{}, fmt.Errorf("find password reset: %w", err)
	}
	return r, user, nil
}

// NeedsSecondFactor reports whether the reset must still pass the user's
// second factor.
func (s *Service) NeedsSecondFactor(ctx context.Context, r Reset) (bool, error) {
	if !r.SecondFactorAt.IsZero() || s.factors == nil {
		return false, nil
	}
	has, err := s.factors.HasSecondFactor(ctx, r.UserID)
	if err != nil {
		return false, fmt.Errorf("look up second factor: %w", err)
	}
	return has, nil
}

// SetResetChallenge records the SMS challenge started for the reset, so that
// only that challenge's code can pass it.
func (s *Service) SetResetChallenge(ctx context.Context, r Reset, challengeID string) error {
	if err := s.email.SetResetChallenge(ctx, r.ID, challengeID); err != nil {
		return fmt.Errorf("record reset challenge: %w", err)
	}
	return nil
}

// PassResetSecondFactor records that the user passed their second factor
// (method "sms" or "otp") for this reset.
func (s *Service) PassResetSecondFactor(ctx context.Context, r Reset, method string, m Meta) error {
	if err := s.email.PassResetSecondFactor(ctx, r.ID, s.now()); err != nil {
		return fmt.Errorf("record reset second factor: %w", err)
	}
	s.record(ctx, Event{Type: EventResetSecondFactor, UserID: r.UserID,
		Details: map[string]any{"reset_id": r.ID, "method": method}}, m)
	return nil
}

// CompletePasswordReset sets the new password of an open reset, under the
// signup rules, as setPassword does: every session, OAuth token and
// remembered browser of the user ends, and in the same transaction the link
// is used up. Following the link
// also proves the address, so it becomes verified. The user logs in
// afterwards like anyone else: the MFA policy applies to that login.
func (s *Service) CompletePasswordReset(ctx context.Context, token, plain string, m Meta) (User, error) {
	r, user, err := s.OpenPasswordReset(ctx, token)
	if err != nil {
		return User{}, err
	}
	if need, err := s.NeedsSecondFactor(ctx, r); err != nil {
		return User{}, err
	} else if need {
		return User{}, ErrSecondFactorRequired
	}
	if err := s.policy.Check(plain, contextWords(user.Email)...); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return User{}, fmt.Errorf("reset password: hash: %w", err)
	}
	now := s.now()
	user.EmailVerified = true // following the link proved the address
	_, err = s.setPassword(ctx, newPassword{user: user, hash: hash, event: EventPasswordReset,
		details: map[string]any{"reset_id": r.ID, "second_factor": !r.SecondFactorAt.IsZero()},
		first: func(ctx context.Context) error {
			ok, err := s.email.UsePasswordReset(ctx, r.ID, now)
			if err != nil {
				return fmt.Errorf("use password reset: %w", err)
			}
			if !ok {
				return ErrLinkUsed
			}
			return s.email.SetEmailVerified(ctx, user.ID, true)
		}}, m)
	if err != nil {
		if errors.Is(err, ErrLinkUsed) {
			return User{}, err
		}
		return User{}, fmt.Errorf("reset password: %w", err)
	}
	return user, nil
}
