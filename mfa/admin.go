package mfa

import (
	"context"
	"fmt"
	"time"
)

// Summary is what an administrator sees of a user's second factors: never
// a phone number in full, nor a secret.
type Summary struct {
	PhoneMasked       string // "" when no phone is enrolled
	PhoneVerifiedAt   time.Time
	TOTP              bool
	RecoveryCodesLeft int
	Failures          FailureState
}

// Summarize gathers the user's factors for an administrator.
func (s *Service) Summarize(ctx context.Context, userID string) (Summary, error) {
	var sum Summary
	f, enrolled, err := s.Factor(ctx, userID)
	if err != nil {
		return sum, err
	}
	if enrolled {
		sum.PhoneMasked, sum.PhoneVerifiedAt = f.Masked, f.VerifiedAt
	}
	if sum.TOTP, err = s.HasTOTP(ctx, userID); err != nil {
		return sum, err
	}
	if sum.RecoveryCodesLeft, err = s.store.MFARecoveryCodesLeft(ctx, userID); err != nil {
		return sum, fmt.Errorf("count recovery codes: %w", err)
	}
	if sum.Failures, err = s.store.MFAFailures(ctx, userID); err != nil {
		return sum, fmt.Errorf("load mfa failures: %w", err)
	}
	return sum, nil
}

// PhoneLookup is the keyed hash under which a number typed by an
// administrator is found among verified phones (account.UserSearch), or nil
// when the text is not a phone number. A number without a calling code is
// read in defaultRegion ("" accepts only international form).
func (s *Service) PhoneLookup(text, defaultRegion string) []byte {
	p, err := ParsePhone(text, defaultRegion, nil)
	if err != nil {
		return nil
	}
	return s.vault.Lookup(p.E164)
}
