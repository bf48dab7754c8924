package risk

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// FailureCounter counts failed logins from an address, across all accounts.
type FailureCounter interface {
	IPFailures(ctx context.Context, ip netip.Addr, since time.Time) (int, error)
}

// UntrustedIP is High when the address is in the admins' block list or has
// failed Threshold logins or more, across accounts, in the last day.
type UntrustedIP struct {
	// Blocked returns the block list at the time of the attempt, so admins can
	// change it while the server runs; nil means no list.
	Blocked   func(ctx context.Context) ([]netip.Prefix, error)
	Failures  FailureCounter // nil: failures are not counted
	Threshold int            // 0 means 20
}

const (
	defaultFailureThreshold = 20
	failureWindow           = 24 * time.Hour
)

func (UntrustedIP) Name() string { return "untrusted_ip" }

func (s UntrustedIP) Assess(ctx context.Context, a Attempt) (Finding, error) {
	if !a.IP.IsValid() {
		return unavailable(s.Name(), "The client address is unknown."), nil
	}
	ip := a.IP.Unmap()
	if s.Blocked != nil {
		blocked, err := s.Blocked(ctx)
		if err != nil {
			return Finding{}, fmt.Errorf("block list: %w", err)
		}
		for _, p := range blocked {
			if p.Contains(ip) {
				return Finding{Risk: High, Reason: fmt.Sprintf("The address %s is in the block list (%s).", ip, p)}, nil
			}
		}
	}
	if s.Failures == nil {
		return Finding{Risk: None, Reason: "The address is not in the block list."}, nil
	}
	n, err := s.Failures.IPFailures(ctx, ip, a.At.Add(-failureWindow))
	if err != nil {
		return Finding{}, err
	}
	threshold := s.Threshold
	if threshold <= 0 {
		threshold = defaultFailureThreshold
	}
	reason := fmt.Sprintf("%d failed logins from %s in the last 24 h, across accounts.", n, ip)
	if n >= threshold {
		return Finding{Risk: High, Reason: reason}, nil
	}
	return Finding{Risk: None, Reason: reason}, nil
}
