package mfa

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// SendCounter is one fixed-window bucket of one limit: Key names what is
// counted and the window's length ("phone:<lookup hex>/600s", "ip:192.0.2.1/3600s",
// "user:<id>/3600s", "cc:44/3600s", "global/3600s", "global:enroll/3600s"), so
// the 10-minute and the day bucket of one phone never share a row.
type SendCounter struct {
	Limit       string // one of the Limit… names
	Key         string
	WindowStart time.Time
	WindowEnd   time.Time
	Max         int
}

// FailureState is what the user's failure counter says.
type FailureState struct {
	Consecutive   int
	LockedUntil   time.Time // zero when never locked
	AccountLocked bool
}

// Counters keeps the send counters and the per-user failure counters in the
// database, so that every replica sees the same counts.
type Counters interface {
	// TakeMFASends counts one send in every counter, or in none of them when
	// any is already at its Max; it returns the counters that were. It must be
	// atomic against concurrent callers on any replica.
	TakeMFASends(ctx context.Context, counters []SendCounter) (exhausted []SendCounter, err error)
	// MFASendCounts returns how many sends each counter holds in its window,
	// 0 where there were none; it changes nothing.
	MFASendCounts(ctx context.Context, counters []SendCounter) ([]int, error)

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
	var cs []SendCounter
	add := func(limit, key string, ls ...Limit) {
		cs = append(cs, windowCounters(limit, key, now, ls)...)
	}
	add(LimitPhone, "phone:"+hex.EncodeToString(c.PhoneLookup), rules.PhoneLimits...)
	add(LimitIP, "ip:"+account.IPKey(ip), rules.IPLimits...)
	add(LimitUser, "user:"+c.UserID, rules.UserLimits...)
	if l, ok := rules.CountryLimits[c.CountryCode]; ok {
		add(LimitCountry, "cc:"+strconv.Itoa(c.CountryCode), l)
	}
	add(LimitGlobal, globalKey, rules.GlobalLimits...)
	if c.Purpose == PurposeEnroll {
		add(LimitGlobalEnroll, globalEnrollKey, rules.enrollLimits()...)
	}
	// One order for every caller, so concurrent takes never deadlock.
	sort.Slice(cs, func(i, j int) bool { return cs[i].Key < cs[j].Key })

	exhausted, err := s.store.TakeMFASends(ctx, cs)
	if err != nil {
		return fmt.Errorf("count sms sends: %w", err)
	}
	if len(exhausted) == 0 {
		return nil
	}
	// The limit that keeps the user waiting longest is the one to report;
	// of two that end together, the first by key, so the whole budget
	// ("global/…") before its enrollment share ("global:enroll/…").
	worst := exhausted[0]
	for _, c := range exhausted[1:] {
		if c.WindowEnd.After(worst.WindowEnd) {
			worst = c
		}
	}
	return &LimitError{Limit: worst.Limit, RetryAt: worst.WindowEnd}
}

// windowCounters are the counters of limit under key for the windows that
// hold now, one per Limit that is on. The key ends in the window's length,
// so that the 10-minute and the day bucket of one phone never share a row.
func windowCounters(limit, key string, now time.Time, ls []Limit) []SendCounter {
	var cs []SendCounter
	for _, l := range ls {
		if l.Max <= 0 || l.Window <= 0 {
			continue
		}
		start := now.Truncate(l.Window)
		cs = append(cs, SendCounter{
			Limit: limit, Key: key + "/" + strconv.FormatInt(int64(l.Window/time.Second), 10) + "s",
			WindowStart: start, WindowEnd: start.Add(l.Window), Max: l.Max,
		})
	}
	return cs
}

func limitEvent(userID string, ip netip.Addr, masked string, l *LimitError) account.Event {
	return account.Event{Type: EventLimitHit, UserID: userID, Subject: masked, IP: ip,
		Details: map[string]any{"limit": l.Limit, "retry_at": l.RetryAt}}
}
