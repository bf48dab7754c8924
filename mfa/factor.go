package mfa

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// Factor is a user's verified phone. The number is kept sealed; Masked is
// what pages show.
type Factor struct {
	ID          string
	UserID      string
	PhoneSealed []byte
	PhoneLookup []byte
	Masked      string
	VerifiedAt  time.Time
}

// Factors stores verified phones and recovery codes.
type Factors interface {
	// PutMFAFactor makes f the user's factor, replacing any previous one.
	PutMFAFactor(ctx context.Context, f Factor) error
	// MFAFactor returns the user's factor or ErrNotEnrolled.
	MFAFactor(ctx context.Context, userID string) (Factor, error)
	// ReplaceMFARecoveryCodes makes hashes the user's only recovery codes, in
	// one statement; no hashes leaves the user none.
	ReplaceMFARecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error
	// UseMFARecoveryCode marks the user's unused code with this hash used at
	// at; ok is false when there is none, and of concurrent callers with the
	// same code exactly one gets true. remaining counts the unused codes left.
	UseMFARecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) (remaining int, ok bool, err error)
	// DeleteMFAFactor removes the user's phone and the challenges sent to
	// it, and nothing else.
	DeleteMFAFactor(ctx context.Context, userID string) error
	// DeleteMFA removes the user's factor, recovery codes, challenges and
	// failure counter.
	DeleteMFA(ctx context.Context, userID string) error
	// RemovePasskeys removes the user's passkeys (package passkey manages
	// them; a reset takes every credential).
	RemovePasskeys(ctx context.Context, userID string) (int, error)
	// HasPasskey reports whether the user holds a usable passkey.
	HasPasskey(ctx context.Context, userID string) (bool, error)
	// MFARecoveryCodesLeft counts the user's unused recovery codes.
	MFARecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// LockMFAUser makes every other transaction that calls it for the same
	// user wait until this one ends; it must be called inside InTx.
	LockMFAUser(ctx context.Context, userID string) error
}

// ErrFactorExists refuses a first enrollment for a user who has meanwhile
// got a second factor.
var ErrFactorExists = errors.New("the user already has a second factor")

// serialized runs fn in a transaction that holds the user's MFA lock and
// has found the user not locked out, so that concurrent attempts are counted
// one after another and none is checked after the lock began. A refusal by
// the lock is audited as action.
func (s *Service) serialized(ctx context.Context, userID, action string, fn func(ctx context.Context) error) error {
	var refused error
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockMFAUser(ctx, userID); err != nil {
			return fmt.Errorf("lock mfa user: %w", err)
		}
		if refused = s.CheckLock(ctx, userID); refused != nil {
			return refused
		}
		return fn(ctx)
	})
	if refused != nil && (errors.Is(refused, ErrAccountLocked) || errors.Is(refused, ErrMFALocked)) {
		s.record(ctx, lockEvent(userID, action, netip.Addr{}, refused, 0))
	}
	return err
}

// EnrollVerified makes phone the user's factor. The number counts only if the
// user passed an enroll challenge for it within the last CodeTTL
// (ErrNotVerified otherwise). An enrolled phone is replaced: whether this
// session may replace it (a second factor passed minutes ago) is the
// assurance authority's decision, asked before the enroll challenge starts.
// firstOnly is set when that decision was a first enrollment: then it holds
// only while the user still has no factor (ErrFactorExists), checked under
// the user's lock, so two sessions racing to enroll cannot both count as
// first.
func (s *Service) EnrollVerified(ctx context.Context, userID string, phone Phone, firstOnly bool) (Factor, error) {
	lookup := s.vault.Lookup(phone.E164)
	ok, err := s.store.PassedMFAEnrollment(ctx, userID, lookup, s.now().Add(-s.rulesFor(ctx).CodeTTL))
	if err != nil {
		return Factor{}, fmt.Errorf("find passed enrollment: %w", err)
	}
	if !ok {
		return Factor{}, ErrNotVerified
	}
	var f Factor
	err = s.enrollLocked(ctx, userID, firstOnly, func(ctx context.Context) error {
		f, err = s.putFactor(ctx, userID, phone, "user")
		return err
	})
	return f, err
}

// enrollLocked runs put in a transaction under the user's lock; with
// firstOnly it refuses (ErrFactorExists) once the user has a factor.
func (s *Service) enrollLocked(ctx context.Context, userID string, firstOnly bool, put func(ctx context.Context) error) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockMFAUser(ctx, userID); err != nil {
			return fmt.Errorf("lock mfa user: %w", err)
		}
		if firstOnly {
			if has, err := s.HasSecondFactor(ctx, userID); err != nil || has {
				return cmp.Or(err, ErrFactorExists)
			}
		}
		return put(ctx)
	})
}

// EnrollAlongside runs put, the enrollment of a factor this package does not
// keep (a passkey), under the same user lock as the phone's and the app's,
// so that with firstOnly two sessions cannot both add a first factor of any
// kind (ErrFactorExists for the later).
func (s *Service) EnrollAlongside(ctx context.Context, userID string, firstOnly bool, put func(ctx context.Context) error) error {
	return s.enrollLocked(ctx, userID, firstOnly, put)
}

// EnrollByOperator makes phone the user's factor on an operator's word, with
// no code sent: the number was verified elsewhere (an import, an admin who
// vouches for it).
func (s *Service) EnrollByOperator(ctx context.Context, userID string, phone Phone) (Factor, error) {
	return s.putFactor(ctx, userID, phone, "operator")
}

func (s *Service) putFactor(ctx context.Context, userID string, phone Phone, by string) (Factor, error) {
	sealed, err := s.vault.Seal(phone.E164)
	if err != nil {
		return Factor{}, fmt.Errorf("seal phone: %w", err)
	}
	_, replaced, err := s.Factor(ctx, userID)
	if err != nil {
		return Factor{}, err
	}
	f := Factor{
		ID: newID(), UserID: userID, PhoneSealed: sealed, PhoneLookup: s.vault.Lookup(phone.E164), Masked: phone.Masked(),
		VerifiedAt: s.now(),
	}
	if err := s.store.PutMFAFactor(ctx, f); err != nil {
		return Factor{}, fmt.Errorf("store mfa factor: %w", err)
	}
	if replaced {
		// A browser remembered with the old phone must prove the new one.
		if _, err := s.ForgetAllBrowsers(ctx, userID, "phone_changed"); err != nil {
			return Factor{}, err
		}
	}
	s.record(ctx, account.Event{Type: EventEnrolled, UserID: userID, Subject: f.Masked,
		Details: map[string]any{"factor": "sms", "country_code": phone.CountryCode, "replaced": replaced, "by": by}})
	return f, nil
}

// Factor returns the user's verified phone, if any.
func (s *Service) Factor(ctx context.Context, userID string) (Factor, bool, error) {
	f, err := s.store.MFAFactor(ctx, userID)
	if errors.Is(err, ErrNotEnrolled) {
		return Factor{}, false, nil
	}
	if err != nil {
		return Factor{}, false, fmt.Errorf("load mfa factor: %w", err)
	}
	return f, true, nil
}

// OpenPhone decrypts the factor's number.
func (s *Service) OpenPhone(f Factor) (Phone, error) {
	e164, err := s.vault.Open(f.PhoneSealed)
	if err != nil {
		return Phone{}, fmt.Errorf("open phone of factor %s: %w", f.ID, err)
	}
	p, err := phoneFromE164(e164)
	if err != nil {
		return Phone{}, fmt.Errorf("parse phone of factor %s: %w", f.ID, err)
	}
	return p, nil
}

// ResetMFA removes the user's factor, authenticator app, passkeys, recovery
// codes, open challenges and failure counter, which also lifts an account
// lock. It is the administrator's
// way out for a user who lost the phone or got locked.
func (s *Service) ResetMFA(ctx context.Context, userID string) error {
	return s.ResetMFABy(ctx, userID, "")
}

// ResetMFABy is ResetMFA with the admin or operator who asked for it named
// in the audit log's details.by.
func (s *Service) ResetMFABy(ctx context.Context, userID, by string) error {
	if err := s.store.DeleteMFA(ctx, userID); err != nil {
		return fmt.Errorf("reset mfa: %w", err)
	}
	if err := s.store.DeleteTOTP(ctx, userID); err != nil {
		return fmt.Errorf("reset mfa: %w", err)
	}
	passkeys, err := s.store.RemovePasskeys(ctx, userID)
	if err != nil {
		return fmt.Errorf("reset mfa: %w", err)
	}
	if _, err := s.ForgetAllBrowsers(ctx, userID, "mfa_reset"); err != nil {
		return err
	}
	e := account.Event{Type: EventReset, UserID: userID, Details: map[string]any{"passkeys_removed": passkeys}}
	if by != "" {
		e.Details["by"] = by
	}
	s.record(ctx, e)
	return nil
}

// HasSecondFactor reports whether the user has a verified phone, an
// authenticator app or a passkey: what a password reset must pass before it
// completes, and what makes an enrollment a first one or not.
func (s *Service) HasSecondFactor(ctx context.Context, userID string) (bool, error) {
	if _, ok, err := s.Factor(ctx, userID); err != nil || ok {
		return ok, err
	}
	if ok, err := s.HasTOTP(ctx, userID); err != nil || ok {
		return ok, err
	}
	ok, err := s.store.HasPasskey(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("has passkey: %w", err)
	}
	return ok, nil
}
