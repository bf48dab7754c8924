package mfa

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/limits"
)

// FailureState is what the user's failure counter says.
type FailureState struct {
	Consecutive   int
	LockedUntil   time.Time // zero when never locked
	AccountLocked bool
}

// Counters keeps the send counters and the per-user failure counters in the
// database, so that every replica sees the same counts.
type Counters interface {
	// TakeCounters counts SMS sends under the keys of the Limit… names
	// ("phone:<lookup hex>", "ip:…", "user:<id>", "cc:44", "global",
	// "global:enroll").
	limits.Store
	// ReadCounters returns how many each counter holds in its window, 0
	// where there were none; it changes nothing.
	ReadCounters(ctx context.Context, counters []limits.Counter) ([]int, error)

	MFAFailures(ctx context.Context, userID string) (FailureState, error)
	// AddMFAFailure counts one failure and returns the consecutive count after it.
	AddMFAFailure(ctx context.Context, userID string, at time.Time) (consecutive int, err error)
	// LockMFA locks the user's MFA until until, or for good when account is set.
	LockMFA(ctx context.Context, userID string, until time.Time, account bool) error
	// ClearMFAFailures sets the consecutive count back to zero after a success.
	ClearMFAFailures(ctx context.Context, userID string) error
}

// CheckLock reports whether the user may use MFA now: nil, a *LockedError or
// ErrAccountLocked. The login flow calls it too, so that a locked account
// stays locked when the policy asks for no challenge.
func (s *Service) CheckLock(ctx context.Context, userID string) error {
	st, err := s.store.MFAFailures(ctx, userID)
	if err != nil {
		return fmt.Errorf("read mfa failures: %w", err)
	}
	if st.AccountLocked {
		return ErrAccountLocked
	}
	if now := s.now(); now.Before(st.LockedUntil) {
		return &LockedError{Until: st.LockedUntil}
	}
	return nil
}

// checkLock is CheckLock with the refusal audited.
func (s *Service) checkLock(ctx context.Context, userID, action string, ip netip.Addr) error {
	err := s.CheckLock(ctx, userID)
	if errors.Is(err, ErrAccountLocked) || errors.Is(err, ErrMFALocked) {
		s.record(ctx, lockEvent(userID, action, ip, err, 0))
	}
	return err
}

// addFailure counts one failure of the user; it returns the lock this failure
// started, if any. Call it inside the transaction that records the failure.
func (s *Service) addFailure(ctx context.Context, userID string, now time.Time) (lock error, consecutive int, err error) {
	n, err := s.store.AddMFAFailure(ctx, userID, now)
	if err != nil {
		return nil, 0, fmt.Errorf("count mfa failure: %w", err)
	}
	switch {
	case s.rulesFor(ctx).AccountLockAfter > 0 && n >= s.rulesFor(ctx).AccountLockAfter:
		lock = ErrAccountLocked
		err = s.store.LockMFA(ctx, userID, time.Time{}, true)
	case s.rulesFor(ctx).LockAfter > 0 && n%s.rulesFor(ctx).LockAfter == 0:
		until := now.Add(s.rulesFor(ctx).LockFor)
		lock = &LockedError{Until: until}
		err = s.store.LockMFA(ctx, userID, until, false)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("lock mfa: %w", err)
	}
	return lock, n, nil
}

func lockEvent(userID, action string, ip netip.Addr, lock error, consecutive int) account.Event {
	d := map[string]any{"action": action, "account": lock == ErrAccountLocked}
	if l, ok := lock.(*LockedError); ok {
		d["until"] = l.Until
	}
	if consecutive > 0 {
		d["started"] = true
		d["consecutive_failures"] = consecutive
	}
	return account.Event{Type: EventLocked, UserID: userID, IP: ip, Details: d}
}

// Names of the limits, as LimitError.Limit and the details.limit of an
// mfa.limit_hit audit event give them. Admins filter on them.
const (
	LimitPhone        = "phone"
	LimitIP           = "ip"
	LimitUser         = "user"
	LimitCountry      = "country"
	LimitGlobal       = "global"
	LimitGlobalEnroll = "global_enroll"
)

// Keys of the installation-wide counters, before the window's length.
const (
	globalKey       = "global"
	globalEnrollKey = "global:enroll"
)

// takeSends counts one SMS for challenge c from ip in every limit, or returns
// the *LimitError of the limit that refuses it. A code to a number being
// enrolled also counts against the enrollment share of the global budget;
// a code to the user's verified phone does not, which is what keeps the
// rest of the budget for sign-in.
func (s *Service) takeSends(ctx context.Context, c Challenge, ip netip.Addr, now time.Time) error {
	rules := s.rulesFor(ctx)
	var cs []limits.Counter
	add := func(limit, key string, ls ...limits.Limit) {
		cs = append(cs, limits.Counters(limit, key, now, ls...)...)
	}
	add(LimitPhone, "phone:"+hex.EncodeToString(c.PhoneLookup), rules.PhoneLimits...)
	add(LimitIP, "ip:"+limits.IPKey(ip), rules.IPLimits...)
	add(LimitUser, "user:"+c.UserID, rules.UserLimits...)
	if l, ok := rules.CountryLimits[c.CountryCode]; ok {
		add(LimitCountry, "cc:"+strconv.Itoa(c.CountryCode), l)
	}
	add(LimitGlobal, globalKey, rules.GlobalLimits...)
	if c.Purpose == PurposeEnroll {
		add(LimitGlobalEnroll, globalEnrollKey, rules.enrollLimits()...)
	}
	// Of two limits that end together, limits.Take reports the first by key,
	// so the whole budget ("global/…") before its enrollment share
	// ("global:enroll/…").
	refused, taken, err := limits.Take(ctx, s.store, cs)
	if err != nil {
		return fmt.Errorf("count sms sends: %w", err)
	}
	if !taken {
		return &LimitError{Limit: refused.Name, RetryAt: refused.WindowEnd}
	}
	return nil
}

func limitEvent(userID string, ip netip.Addr, masked string, l *LimitError) account.Event {
	return account.Event{Type: EventLimitHit, UserID: userID, Subject: masked, IP: ip,
		Details: map[string]any{"limit": l.Limit, "retry_at": l.RetryAt}}
}
