package mfa

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/account"
)

// The changes a user makes to their own factors from the security page.
// Whether a session may make them is the assurance authority's decision;
// what holds here whatever asked is that one user's changes take turns under
// the user's MFA lock, and that recovery codes live only beside a factor:
// they are a way through a factor's challenge, not a factor.

// EventPhoneRemoved is a user's removal of their verified phone;
// details.recovery_codes_removed says whether it was the last factor.
const EventPhoneRemoved = "mfa.phone_removed"

// ErrNoSecondFactor refuses recovery codes to a user with no factor.
var ErrNoSecondFactor = errors.New("the user has no second factor")

// RemovePhone removes the user's verified phone if factorID still names it;
// a form from before the phone was replaced or removed answers
// ErrNotEnrolled and changes nothing. Browsers remembered with the phone must
// pass a factor again, and the last factor takes the recovery codes with it.
func (s *Service) RemovePhone(ctx context.Context, userID, factorID string) error {
	var gone Factor
	removed, codesGone, err := s.removeFactor(ctx, userID, func(ctx context.Context) (bool, error) {
		f, err := s.store.MFAFactor(ctx, userID)
		if err != nil {
			return false, err
		}
		if f.ID != factorID {
			return false, ErrNotEnrolled
		}
		gone = f
		return true, s.store.DeleteMFAFactor(ctx, userID)
	})
	if err != nil || !removed {
		return err
	}
	if _, err := s.ForgetAllBrowsers(ctx, userID, "phone_removed"); err != nil {
		return err
	}
	s.record(ctx, account.Event{Type: EventPhoneRemoved, UserID: userID, Subject: gone.Masked,
		Details: map[string]any{"recovery_codes_removed": codesGone}})
	return nil
}

// RemoveAlongside removes a factor this package does not keep (a passkey)
// by remove, under the user's lock, and like any factor's removal takes the
// recovery codes with it when it was the user's last factor.
func (s *Service) RemoveAlongside(ctx context.Context, userID string, remove func(ctx context.Context) error) error {
	_, _, err := s.removeFactor(ctx, userID, func(ctx context.Context) (bool, error) {
		return true, remove(ctx)
	})
	return err
}

// removeFactor runs remove under the user's lock and, when it removed the
// user's last factor, deletes the recovery codes in the same transaction.
func (s *Service) removeFactor(ctx context.Context, userID string, remove func(ctx context.Context) (bool, error)) (removed, codesGone bool, err error) {
	err = s.enrollLocked(ctx, userID, false, func(ctx context.Context) error {
		if removed, err = remove(ctx); err != nil || !removed {
			return err
		}
		has, err := s.HasSecondFactor(ctx, userID)
		if err != nil || has {
			return err
		}
		left, err := s.store.MFARecoveryCodesLeft(ctx, userID)
		if err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		codesGone = left > 0
		return s.store.ReplaceMFARecoveryCodes(ctx, userID, nil, s.now())
	})
	return removed, codesGone, err
}

// RegenerateRecoveryCodes replaces every recovery code of the user, used or
// not, with ten new ones in one statement: the old ones stop working the
// moment the new ones exist. A user with no factor gets none
// (ErrNoSecondFactor).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, hashes := s.newRecoveryCodes(userID)
	err := s.enrollLocked(ctx, userID, false, func(ctx context.Context) error {
		has, err := s.HasSecondFactor(ctx, userID)
		if err != nil {
			return err
		}
		if !has {
			return ErrNoSecondFactor
		}
		if err := s.store.ReplaceMFARecoveryCodes(ctx, userID, hashes, s.now()); err != nil {
			return fmt.Errorf("store recovery codes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.record(ctx, account.Event{Type: EventRecoveryCodesIssued, UserID: userID,
		Details: map[string]any{"count": len(codes), "regenerated": true}})
	return codes, nil
}
