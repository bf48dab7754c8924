package mfa

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// Purposes of a challenge.
const (
	PurposeEnroll    = "enroll"    // proves a new number before it becomes the factor
	PurposeChallenge = "challenge" // proves possession of the enrolled number at login
)

// Challenge is one code sent by SMS for one login transaction (TxID) of one
// user. The code itself is never stored, only CodeHash.
type Challenge struct {
	ID          string
	UserID      string
	TxID        string
	Purpose     string
	PhoneSealed []byte
	PhoneLookup []byte
	Masked      string // "•••• 3456", for "we sent a code to …"
	CountryCode int
	AppName     string
	IssuerHost  string
	CodeHash    []byte
	Attempts    int // wrong codes so far, across resends
	Sends       int
	CreatedAt   time.Time
	ExpiresAt   time.Time
	LastSentAt  time.Time
	UsedAt      time.Time // zero until the right code passed
	EndedAt     time.Time // zero unless wrong codes ended it
}

// Challenges stores challenges. The conditional updates are what make a code
// single use and the attempt limit exact under concurrent requests.
type Challenges interface {
	CreateMFAChallenge(ctx context.Context, c Challenge) error
	// MFAChallenge returns the challenge or ErrChallengeNotFound.
	MFAChallenge(ctx context.Context, id string) (Challenge, error)
	// UseMFAChallenge marks the challenge used if at now it is open (neither
	// used nor ended), unexpired and still has codeHash; it reports whether
	// this call did, so of concurrent callers exactly one wins.
	UseMFAChallenge(ctx context.Context, id string, codeHash []byte, now time.Time) (bool, error)
	// AddMFAAttempt counts a wrong code on a challenge open and unexpired at
	// now, and ends it when attempts reach maxAttempts. ok is false when the
	// challenge was not open.
	AddMFAAttempt(ctx context.Context, id string, maxAttempts int, now time.Time) (attempts int, ok bool, err error)
	// RenewMFAChallenge gives an open challenge last sent at or before
	// sentBefore a new code hash, sent at now and expiring at expiresAt, and
	// counts the send. ok is false when the challenge was not in that state.
	RenewMFAChallenge(ctx context.Context, id string, codeHash []byte, now, expiresAt, sentBefore time.Time) (c Challenge, ok bool, err error)
	// PassedMFAEnrollment reports whether the user passed an enroll challenge
	// for the phone with this lookup at or after since.
	PassedMFAEnrollment(ctx context.Context, userID string, phoneLookup []byte, since time.Time) (bool, error)
}

// StartRequest asks for a code. Phone is the number to enroll (from
// ParsePhone); for PurposeChallenge it may be left zero and the enrolled
// number is used, and any other number is refused.
type StartRequest struct {
	UserID     string
	TxID       string
	Purpose    string
	Phone      Phone
	IP         netip.Addr
	AppName    string // "Your <AppName> verification code is …"
	IssuerHost string // WebOTP line "@<IssuerHost> #code"
}

// StartChallenge sends a new code. It refuses without sending when the user is
// locked (*LockedError, ErrAccountLocked) or a limit is reached (*LimitError);
// otherwise it counts the send in every limit, stores the challenge and hands
// the SMS to the outbox in one transaction.
func (s *Service) StartChallenge(ctx context.Context, r StartRequest) (Challenge, error) {
	if r.UserID == "" || r.TxID == "" || (r.Purpose != PurposeEnroll && r.Purpose != PurposeChallenge) {
		return Challenge{}, ErrInvalidRequest
	}
	if s.rulesFor(ctx).PhoneOff {
		return Challenge{}, ErrPhoneOff
	}
	phone, err := s.challengePhone(ctx, r)
	if err != nil {
		return Challenge{}, err
	}
	if err := s.checkLock(ctx, r.UserID, "start", r.IP); err != nil {
		return Challenge{}, err
	}
	sealed, err := s.vault.Seal(phone.E164)
	if err != nil {
		return Challenge{}, fmt.Errorf("seal phone: %w", err)
	}
	now := s.now()
	c := Challenge{
		ID: newID(), UserID: r.UserID, TxID: r.TxID, Purpose: r.Purpose,
		PhoneSealed: sealed, PhoneLookup: s.vault.Lookup(phone.E164), Masked: phone.Masked(),
		CountryCode: phone.CountryCode, AppName: r.AppName, IssuerHost: r.IssuerHost,
		Sends: 1, CreatedAt: now, ExpiresAt: now.Add(s.rulesFor(ctx).CodeTTL), LastSentAt: now,
	}
	code := NewCode()
	c.CodeHash = s.codes.Hash(c.ID, code)
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.takeSends(ctx, c, r.IP, now); err != nil {
			return err
		}
		if err := s.store.CreateMFAChallenge(ctx, c); err != nil {
			return fmt.Errorf("create mfa challenge: %w", err)
		}
		return s.enqueue(ctx, c, phone.E164, code)
	})
	if err != nil {
		return Challenge{}, s.sendRefused(ctx, c, r.IP, err)
	}
	s.record(ctx, account.Event{Type: EventChallengeStarted, UserID: c.UserID, Subject: c.Masked, IP: r.IP,
		Details: map[string]any{"challenge_id": c.ID, "purpose": c.Purpose, "country_code": c.CountryCode}})
	return c, nil
}

func (s *Service) challengePhone(ctx context.Context, r StartRequest) (Phone, error) {
	if r.Purpose == PurposeEnroll {
		if len(r.Phone.E164) < 4 || r.Phone.E164[0] != '+' || r.Phone.CountryCode == 0 {
			return Phone{}, ErrInvalidRequest
		}
		return r.Phone, nil
	}
	f, ok, err := s.Factor(ctx, r.UserID)
	if err != nil {
		return Phone{}, err
	}
	if !ok {
		return Phone{}, ErrNotEnrolled
	}
	if r.Phone.E164 != "" && !hmac.Equal(s.vault.Lookup(r.Phone.E164), f.PhoneLookup) {
		return Phone{}, ErrPhoneNotEnrolled
	}
	return s.OpenPhone(f)
}

// Resend sends a new code for an open challenge, at least ResendCooldown after
// the last send (*CooldownError) and within the same limits as
// StartChallenge. The previous code stops working; the expiry starts again;
// the wrong attempts so far are kept.
func (s *Service) Resend(ctx context.Context, challengeID string, ip netip.Addr) (Challenge, error) {
	c, err := s.store.MFAChallenge(ctx, challengeID)
	if err != nil {
		return Challenge{}, err
	}
	if s.rulesFor(ctx).PhoneOff {
		return Challenge{}, ErrPhoneOff
	}
	if err := s.checkLock(ctx, c.UserID, "resend", ip); err != nil {
		return Challenge{}, err
	}
	now := s.now()
	if err := resendable(c, now, s.rulesFor(ctx).ResendCooldown); err != nil {
		return Challenge{}, err
	}
	to, err := s.vault.Open(c.PhoneSealed)
	if err != nil {
		return Challenge{}, fmt.Errorf("open phone of challenge %s: %w", c.ID, err)
	}
	code := NewCode()
	var renewed Challenge
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var ok bool
		var err error
		renewed, ok, err = s.store.RenewMFAChallenge(ctx, c.ID, s.codes.Hash(c.ID, code),
			now, now.Add(s.rulesFor(ctx).CodeTTL), now.Add(-s.rulesFor(ctx).ResendCooldown))
		if err != nil {
			return fmt.Errorf("renew mfa challenge: %w", err)
		}
		if !ok {
			return errRaced
		}
		if err := s.takeSends(ctx, c, ip, now); err != nil {
			return err
		}
		return s.enqueue(ctx, renewed, to, code)
	})
	if errors.Is(err, errRaced) {
		// Another request resent, used or ended it since we read it.
		if c, err = s.store.MFAChallenge(ctx, c.ID); err == nil {
			err = resendable(c, now, s.rulesFor(ctx).ResendCooldown)
		}
		if err == nil {
			err = &CooldownError{RetryAt: now.Add(s.rulesFor(ctx).ResendCooldown)}
		}
		return Challenge{}, err
	}
	if err != nil {
		return Challenge{}, s.sendRefused(ctx, c, ip, err)
	}
	s.record(ctx, account.Event{Type: EventChallengeStarted, UserID: c.UserID, Subject: c.Masked, IP: ip,
		Details: map[string]any{"challenge_id": c.ID, "purpose": c.Purpose, "country_code": c.CountryCode,
			"resend": true, "sends": renewed.Sends}})
	return renewed, nil
}

// errRaced means a conditional update found the challenge changed by another
// request; it never leaves the package.
var errRaced = errors.New("challenge changed concurrently")

func resendable(c Challenge, now time.Time, cooldown time.Duration) error {
	switch {
	case !c.UsedAt.IsZero():
		return ErrCodeUsed
	case !c.EndedAt.IsZero():
		return ErrChallengeEnded
	}
	if retry := c.LastSentAt.Add(cooldown); now.Before(retry) {
		return &CooldownError{RetryAt: retry}
	}
	return nil
}

func (s *Service) enqueue(ctx context.Context, c Challenge, to, code string) error {
	err := s.outbox.Enqueue(ctx, OutboxMessage{
		ChallengeID: c.ID, UserID: c.UserID, To: to, Text: s.smsText(ctx, c.AppName, code, c.IssuerHost),
		Code: code, Purpose: c.Purpose, ExpiresAt: c.ExpiresAt, CountryCode: c.CountryCode,
	})
	if err != nil {
		return fmt.Errorf("enqueue sms: %w", err)
	}
	return nil
}

// sendRefused audits a send a limit refused; the transaction has rolled back,
// so the refused send counted nowhere.
func (s *Service) sendRefused(ctx context.Context, c Challenge, ip netip.Addr, err error) error {
	var limit *LimitError
	if errors.As(err, &limit) {
		s.record(ctx, limitEvent(c.UserID, ip, c.Masked, limit))
	}
	return err
}

// Verify checks a code. The caller takes challengeID from its own login
// transaction, never from the browser alone, and checks the returned
// challenge's TxID and Purpose. Wrong codes count against the challenge
// (*WrongCodeError, then ErrChallengeEnded) and the user (*LockedError,
// ErrAccountLocked); ErrCodeExpired and ErrCodeUsed count nothing.
func (s *Service) Verify(ctx context.Context, challengeID, code string) (Challenge, error) {
	c, err := s.store.MFAChallenge(ctx, challengeID)
	if err != nil {
		return Challenge{}, err
	}
	if err := s.checkLock(ctx, c.UserID, "verify", netip.Addr{}); err != nil {
		return Challenge{}, err
	}
	now := s.now()
	if err := verifiable(c, now); err != nil {
		return Challenge{}, err
	}
	if s.codes.Equal(s.codes.Hash(c.ID, normalizeCode(code)), c.CodeHash) {
		var ok bool
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			var err error
			if ok, err = s.store.UseMFAChallenge(ctx, c.ID, c.CodeHash, now); err != nil || !ok {
				return err
			}
			return s.store.ClearMFAFailures(ctx, c.UserID)
		})
		if err != nil {
			return Challenge{}, fmt.Errorf("use mfa challenge: %w", err)
		}
		if ok {
			c.UsedAt = now
			s.record(ctx, account.Event{Type: EventChallengePassed, UserID: c.UserID, Subject: c.Masked,
				Details: map[string]any{"challenge_id": c.ID, "purpose": c.Purpose, "amr": []string{"sms"}}})
			return c, nil
		}
		// Another request used, ended or renewed it in between; after a
		// renewal the code typed is the old one, and wrong.
		if c, err = s.store.MFAChallenge(ctx, c.ID); err != nil {
			return Challenge{}, err
		}
		if err := verifiable(c, now); err != nil {
			return Challenge{}, err
		}
	}
	return Challenge{}, s.wrongCode(ctx, c, now)
}

func verifiable(c Challenge, now time.Time) error {
	switch {
	case !c.UsedAt.IsZero():
		return ErrCodeUsed
	case !c.EndedAt.IsZero():
		return ErrChallengeEnded
	case !now.Before(c.ExpiresAt):
		return ErrCodeExpired
	}
	return nil
}

// wrongCode counts a wrong code against the challenge and the user in one
// transaction.
func (s *Service) wrongCode(ctx context.Context, c Challenge, now time.Time) error {
	var attempts, consecutive int
	var lock error
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n, ok, err := s.store.AddMFAAttempt(ctx, c.ID, s.rulesFor(ctx).MaxAttempts, now)
		if err != nil {
			return fmt.Errorf("count wrong code: %w", err)
		}
		if !ok {
			return errRaced
		}
		attempts = n
		lock, consecutive, err = s.addFailure(ctx, c.UserID, now)
		return err
	})
	if errors.Is(err, errRaced) {
		if c, err = s.store.MFAChallenge(ctx, c.ID); err == nil {
			err = verifiable(c, now)
		}
		if err == nil {
			err = ErrChallengeEnded
		}
		return err
	}
	if err != nil {
		return err
	}
	remaining := max(0, s.rulesFor(ctx).MaxAttempts-attempts)
	s.record(ctx, account.Event{Type: EventChallengeFailed, UserID: c.UserID, Subject: c.Masked,
		Details: map[string]any{"challenge_id": c.ID, "purpose": c.Purpose, "attempts": attempts, "remaining": remaining}})
	if lock != nil {
		s.record(ctx, lockEvent(c.UserID, "verify", netip.Addr{}, lock, consecutive))
		return lock
	}
	if remaining == 0 {
		return ErrChallengeEnded
	}
	return &WrongCodeError{Remaining: remaining}
}

// Challenge returns a challenge, for the page that asks for its code.
func (s *Service) Challenge(ctx context.Context, id string) (Challenge, error) {
	return s.store.MFAChallenge(ctx, id)
}
