package account

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// FailureState is what the counters say about one login attempt's account name
// and address.
type FailureState struct {
	PairConsecutive int       // consecutive failures of this account name from this address
	PairLastFailure time.Time // zero when none
	IPFailures      int       // failures from this address inside the window
	IPLastFailure   time.Time // zero when none
}

// Failures keeps the brute-force counters; they live in Postgres so that every
// replica sees the same counts.
type Failures interface {
	FailureState(ctx context.Context, emailKey string, ip netip.Addr, ipSince time.Time) (FailureState, error)
	// RecordFailure counts one failed attempt for the pair and the address. A
	// pair whose lockout has ended (count at pairLimit, last failure before
	// pairReset) starts counting again from one.
	RecordFailure(ctx context.Context, emailKey string, ip netip.Addr, at time.Time, pairLimit int, pairReset time.Time) error
	// ClearPair forgets the pair's consecutive failures after a success.
	ClearPair(ctx context.Context, emailKey string, ip netip.Addr) error
}

// checkLimits refuses the attempt before any password work when the pair is
// locked or the address throttled.
func (s *Service) checkLimits(ctx context.Context, key string, ip netip.Addr) error {
	now := s.now()
	st, err := s.failures.FailureState(ctx, key, ip, now.Add(-s.limits.IPWindow))
	if err != nil {
		return fmt.Errorf("read login failures: %w", err)
	}
	if st.PairConsecutive >= s.limits.PairFailures {
		if until := st.PairLastFailure.Add(s.limits.PairLockout); now.Before(until) {
			return &LockedError{Until: until}
		}
	}
	if st.IPFailures >= s.limits.IPFailures {
		if until := st.IPLastFailure.Add(s.limits.IPThrottle); now.Before(until) {
			return &ThrottledError{Until: until}
		}
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, key string, ip netip.Addr) error {
	now := s.now()
	err := s.failures.RecordFailure(ctx, key, ip, now, s.limits.PairFailures, now.Add(-s.limits.PairLockout))
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}
