// Package limits counts actions against fixed-window limits: SMS codes per
// phone, mails per address, signups per client address, passwordless
// ceremonies per address. The domain packages choose what to count and under
// which key; this package makes the counters, takes them through the
// Postgres store in one step, and reports the one that refused. It knows
// neither HTTP nor SQL, and imports no other package of Gatehouse, so that
// account, mfa and passkey can all depend on it.
package limits

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limit allows Max per fixed window of Window. Windows are aligned to UTC: a
// 10-minute window runs 12:00–12:10, a day runs midnight to midnight. A fixed
// window lets a burst of up to 2×Max straddle a boundary; a longer window
// above each short one caps that, and it costs one row per key and window
// instead of one per action. Max 0 (or no Window) turns the limit off.
type Limit struct {
	Max    int
	Window time.Duration
}

// On reports whether the limit limits anything.
func (l Limit) On() bool { return l.Max > 0 && l.Window > 0 }

// Counter is one fixed-window bucket of one limit. Key names what is counted
// and ends in the window's length ("phone:<hex>/600s", "mail-ip:192.0.2.1/3600s"),
// so that the 10-minute and the day bucket of one key never share a row.
type Counter struct {
	Name        string // the limit it counts for, as the caller reports it ("phone", "global"); may be empty
	Key         string
	WindowStart time.Time
	WindowEnd   time.Time
	Max         int
}

// Counters are the counters of the limits ls under key for the windows that
// hold at now, one per limit that is on; name is copied into each.
func Counters(name, key string, now time.Time, ls ...Limit) []Counter {
	var cs []Counter
	for _, l := range ls {
		if !l.On() {
			continue
		}
		start := now.Truncate(l.Window)
		cs = append(cs, Counter{
			Name: name, Key: key + "/" + strconv.FormatInt(int64(l.Window/time.Second), 10) + "s",
			WindowStart: start, WindowEnd: start.Add(l.Window), Max: l.Max,
		})
	}
	return cs
}

// Store keeps the counters in the database, so that every replica sees the
// same counts; package store implements it.
type Store interface {
	// TakeCounters counts one in every counter, or in none when any is
	// already at its Max, and returns the counters that were. It is atomic
	// against concurrent callers on any replica, and inside a caller's
	// transaction a refusal undoes only its own writes.
	TakeCounters(ctx context.Context, cs []Counter) (exhausted []Counter, err error)
}

// Take counts one action in every counter, or in none when any refuses. When
// one refuses, taken is false and refused is the counter that keeps the
// caller waiting longest (its WindowEnd is when every counter allows again);
// of two that end together, the first by key.
func Take(ctx context.Context, st Store, cs []Counter) (refused Counter, taken bool, err error) {
	if len(cs) == 0 {
		return Counter{}, true, nil
	}
	// One order for every caller, so that two takes never wait on each
	// other's rows in opposite orders.
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b Counter) int { return strings.Compare(a.Key, b.Key) })
	exhausted, err := st.TakeCounters(ctx, cs)
	if err != nil || len(exhausted) == 0 {
		return Counter{}, err == nil, err
	}
	refused = exhausted[0]
	for _, c := range exhausted[1:] {
		if c.WindowEnd.After(refused.WindowEnd) {
			refused = c
		}
	}
	return refused, false, nil
}

// IPKey is how limits count a client address: IPv6 per /64, the smallest
// block a subscriber usually gets, and an unknown address under one shared
// key, so that it fails closed.
func IPKey(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
