package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"time"
)

// SendCounter is one fixed-window bucket of one mail or signup limit; Key
// names what is counted and the window's length, as the SMS limits do.
type SendCounter struct {
	Key         string
	WindowStart time.Time
	WindowEnd   time.Time
	Max         int
}

// MailCounters keeps the mail send counters in the database, so that every
// replica sees the same counts.
type MailCounters interface {
	// TakeMailSends counts one send in every counter, or in none when any is
	// at its Max, and returns the counters that were; atomic across replicas.
	TakeMailSends(ctx context.Context, counters []SendCounter) (exhausted []SendCounter, err error)
}

// MailLimitError says a mail was not sent because a limit was reached; the
// limit's window ends at RetryAt.
type MailLimitError struct{ RetryAt time.Time }

func (e *MailLimitError) Error() string {
	return "too many mails; retry at " + e.RetryAt.Format(time.RFC3339)
}

// takeMailSends counts one mail to address asked for from m.IP. The address
// is counted by a hash: the counters need no readable addresses.
func (s *Service) takeMailSends(ctx context.Context, address string, m Meta, now time.Time) error {
	sum := sha256.Sum256([]byte(emailKey(address)))
	cs := append(windowCounters("mail-to:"+hex.EncodeToString(sum[:16]), now, s.emailRules.PerAddress),
		windowCounters("mail-ip:"+IPKey(m.IP), now, s.emailRules.PerIP)...)
	// One order for every caller, so concurrent takes never deadlock.
	sort.Slice(cs, func(i, j int) bool { return cs[i].Key < cs[j].Key })
	exhausted, err := s.email.TakeMailSends(ctx, cs)
	if err != nil {
		return fmt.Errorf("count mail sends: %w", err)
	}
	if len(exhausted) == 0 {
		return nil
	}
	return &MailLimitError{RetryAt: latestEnd(exhausted)}
}

// windowCounters are the counters under key for the windows that hold now,
// one per Limit that is on. The key ends in the window's length, so that the
// hour's and the day's bucket never share a row.
func windowCounters(key string, now time.Time, ls []Limit) []SendCounter {
	var cs []SendCounter
	for _, l := range ls {
		if l.Max <= 0 || l.Window <= 0 {
			continue
		}
		start := now.Truncate(l.Window)
		cs = append(cs, SendCounter{Key: key + "/" + strconv.FormatInt(int64(l.Window/time.Second), 10) + "s",
			WindowStart: start, WindowEnd: start.Add(l.Window), Max: l.Max})
	}
	return cs
}

// latestEnd is when the last of the exhausted counters' windows ends: the
// earliest moment all of them allow again.
func latestEnd(exhausted []SendCounter) time.Time {
	end := exhausted[0].WindowEnd
	for _, c := range exhausted[1:] {
		if c.WindowEnd.After(end) {
			end = c.WindowEnd
		}
	}
	return end
}

// mailRefused audits a mail a limit refused and passes err on.
func (s *Service) mailRefused(ctx context.Context, err error, address string, m Meta) error {
	var limit *MailLimitError
	if errors.As(err, &limit) {
		s.record(ctx, Event{Type: EventMailLimitHit, Subject: emailKey(address),
			Details: map[string]any{"retry_at": limit.RetryAt}}, m)
	}
	return err
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
