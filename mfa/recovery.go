package mfa

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
)

const (
	// recoveryAlphabet leaves out 0/O, 1/I/L, which people misread on paper.
	recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	recoveryLength   = 12 // ≈59 bits: too many to guess, so an HMAC is enough to store them
	recoveryCount    = 10
)

// IssueRecoveryCodes gives the user ten new single-use codes, "XXXX-XXXX-XXXX",
// which replace any earlier set. They are shown once; only their HMACs are kept.
func (s *Service) IssueRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, hashes := s.newRecoveryCodes(userID)
	if err := s.store.ReplaceMFARecoveryCodes(ctx, userID, hashes, s.now()); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	s.record(ctx, account.Event{Type: EventRecoveryCodesIssued, UserID: userID,
		Details: map[string]any{"count": recoveryCount}})
	return codes, nil
}

// newRecoveryCodes makes a set of codes as shown and their HMACs as stored.
func (s *Service) newRecoveryCodes(userID string) (codes []string, hashes [][]byte) {
	codes = make([]string, recoveryCount)
	hashes = make([][]byte, recoveryCount)
	for i := range codes {
		raw := newRecoveryCode()
		hashes[i] = s.codes.hashRecovery(userID, raw)
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12]
	}
	return codes, hashes
}

func newRecoveryCode() string {
	const n = len(recoveryAlphabet)
	const limit = 256 / n * n // reject the top bytes so every letter is equally likely
	b := make([]byte, 0, recoveryLength)
	var buf [32]byte
	for len(b) < recoveryLength {
		rand.Read(buf[:])
		for _, v := range buf {
			if int(v) < limit && len(b) < recoveryLength {
				b = append(b, recoveryAlphabet[int(v)%n])
			}
		}
	}
	return string(b)
}

// UseRecoveryCode spends one recovery code in place of an SMS code. Case,
// dashes and spaces do not matter. A wrong or used code answers
// ErrInvalidRecoveryCode and counts as a failure toward the user's lock.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	now := s.now()
	hash := s.codes.hashRecovery(userID, strings.ToUpper(normalizeCode(code)))
	var remaining, consecutive int
	var ok bool
	var lock error
	err := s.serialized(ctx, userID, "recovery_code", func(ctx context.Context) error {
		var err error
		remaining, ok, err = s.store.UseMFARecoveryCode(ctx, userID, hash, now)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		if ok {
			return s.store.ClearMFAFailures(ctx, userID)
		}
		lock, consecutive, err = s.addFailure(ctx, userID, now)
		return err
	})
	if err != nil {
		return err
	}
	if ok {
		s.record(ctx, account.Event{Type: EventRecoveryCodeUsed, UserID: userID,
			Details: map[string]any{"remaining": remaining}})
		return nil
	}
	s.record(ctx, account.Event{Type: EventChallengeFailed, UserID: userID,
		Details: map[string]any{"factor": "recovery_code"}})
	if lock != nil {
		s.record(ctx, lockEvent(userID, "recovery_code", netip.Addr{}, lock, consecutive))
		return lock
	}
	return ErrInvalidRecoveryCode
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	n, err := s.store.MFARecoveryCodesLeft(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return n, nil
}
