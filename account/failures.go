package account

import (
	"context"
	"errors"
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

// Attempt is one password attempt already counted as a failure, with what the
// counters it changed held before, so that an attempt that turns out not to
// be a failure can be taken back exactly.
type Attempt struct {
	EmailKey string
	IP       netip.Addr
	At       time.Time
	// PrevPairConsecutive and PrevPairLast are the pair's count and last
	// failure before the attempt; PrevPairLast is zero when the pair had none.
	PrevPairConsecutive int
	PrevPairLast        time.Time
	// PrevIPHourLast is the last failure in the attempt's hourly bucket of
	// the address before it; zero when the bucket was empty.
	PrevIPHourLast time.Time
}

// AttemptRule is how TakeAttempt reads and counts one attempt: the address's
// failures since IPSince are summed, and a pair whose lockout has ended (count
// at PairLimit, last failure before PairReset) starts counting again from one.
type AttemptRule struct {
	IPSince   time.Time
	PairLimit int
	PairReset time.Time
}

// Failures keeps the brute-force counters; they live in Postgres so that every
// replica sees the same counts.
type Failures interface {
	// TakeAttempt counts one failed attempt for the pair and the address
	// before the password is checked, unless admit, shown the counters as
	// they stand, refuses it; then nothing is counted and admit's error is
	// returned. Takes for one address are serialized on every replica, so a
	// burst of parallel attempts is admitted one at a time against the
	// counts of those before it.
	TakeAttempt(ctx context.Context, emailKey string, ip netip.Addr, at time.Time, rule AttemptRule,
		admit func(FailureState) error) (Attempt, error)
	// UndoAttempt takes back an attempt that was not a failure.
	UndoAttempt(ctx context.Context, a Attempt) error
	// SucceedAttempt takes back an attempt whose password was right, as
	// UndoAttempt does, and forgets the pair's consecutive failures, in one
	// step.
	SucceedAttempt(ctx context.Context, a Attempt) error
}

// takeAttempt counts the attempt as a failure before any password work, or
// refuses it when the pair is locked or the address throttled. Counting first
// is what stops a parallel burst: checking the counts, hashing and only then
// counting would let every attempt of the burst pass the check.
func (s *Service) takeAttempt(ctx context.Context, key string, ip netip.Addr) (Attempt, error) {
	now := s.now()
	rule := AttemptRule{
		IPSince:   now.Add(-s.limits.IPWindow),
		PairLimit: s.limits.PairFailures,
		PairReset: now.Add(-s.limits.PairLockout),
	}
	a, err := s.failures.TakeAttempt(ctx, key, ip, now, rule, func(st FailureState) error {
		return s.refusal(st, now)
	})
	var locked *LockedError
	var throttled *ThrottledError
	switch {
	case errors.As(err, &locked):
		return Attempt{}, locked
	case errors.As(err, &throttled):
		return Attempt{}, throttled
	case err != nil:
		return Attempt{}, fmt.Errorf("count login attempt: %w", err)
	}
	return a, nil
}

// refusal says whether the counters as they stand refuse another attempt.
func (s *Service) refusal(st FailureState, now time.Time) error {
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

// undoAttempt takes back an attempt that was not a failure (a right password,
// an error before the answer was known). It runs even when the request was
// cancelled meanwhile, so that a caller hanging up does not leave a failure
// counted that never happened.
func (s *Service) undoAttempt(ctx context.Context, a Attempt) error {
	if err := s.failures.UndoAttempt(context.WithoutCancel(ctx), a); err != nil {
		return fmt.Errorf("undo login attempt: %w", err)
	}
	return nil
}

// succeeded takes back the attempt and forgets the pair's failures, as a
// right password does.
func (s *Service) succeeded(ctx context.Context, a Attempt) error {
	if err := s.failures.SucceedAttempt(context.WithoutCancel(ctx), a); err != nil {
		return fmt.Errorf("count a successful login: %w", err)
	}
	return nil
}
