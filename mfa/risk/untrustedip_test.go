package risk_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

type fakeFailures struct {
	n     int
	since time.Time
	err   error
}

func (f *fakeFailures) IPFailures(_ context.Context, _ netip.Addr, since time.Time) (int, error) {
	f.since = since
	return f.n, f.err
}

func TestUntrustedIP(t *testing.T) {
	blockList := func(prefixes ...string) func(context.Context) ([]netip.Prefix, error) {
		return func(context.Context) ([]netip.Prefix, error) {
			var ps []netip.Prefix
			for _, p := range prefixes {
				ps = append(ps, netip.MustParsePrefix(p))
			}
			return ps, nil
		}
	}
	for _, tc := range []struct {
		name      string
		blocked   func(context.Context) ([]netip.Prefix, error)
		failures  int
		threshold int
		ip        netip.Addr
		want      want
	}{
		{"clean", blockList("203.0.113.0/24"), 3, 0, london,
			want{risk: risk.None, reason: "3 failed logins from 81.2.69.160 in the last 24 h, across accounts."}},
		{"blocked", blockList("2001:db8::/32", "81.2.0.0/16"), 0, 0, london,
			want{risk: risk.High, reason: "The address 81.2.69.160 is in the block list (81.2.0.0/16)."}},
		{"blocked, IPv4 seen as IPv6", blockList("81.2.0.0/16"), 0, 0, netip.MustParseAddr("::ffff:81.2.69.160"),
			want{risk: risk.High, reason: "The address 81.2.69.160 is in the block list (81.2.0.0/16)."}},
		{"20 failures", nil, 20, 0, london,
			want{risk: risk.High, reason: "20 failed logins from 81.2.69.160 in the last 24 h, across accounts."}},
		{"19 failures", nil, 19, 0, london,
			want{risk: risk.None, reason: "19 failed logins from 81.2.69.160 in the last 24 h, across accounts."}},
		{"a lower threshold", nil, 5, 5, london,
			want{risk: risk.High, reason: "5 failed logins from 81.2.69.160 in the last 24 h, across accounts."}},
		{"unknown address", blockList("0.0.0.0/0"), 0, 0, netip.Addr{},
			want{unavailable: true, reason: "The client address is unknown."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failures := &fakeFailures{n: tc.failures}
			s := risk.UntrustedIP{Blocked: tc.blocked, Failures: failures, Threshold: tc.threshold}
			check(t, s, risk.Attempt{UserID: "ann", IP: tc.ip, At: t0}, tc.want, false)
			if !tc.want.unavailable && tc.want.reason[0] != 'T' && !failures.since.Equal(t0.Add(-time24)) {
				t.Errorf("failures counted since %v, want %v", failures.since, t0.Add(-time24))
			}
		})
	}
	t.Run("block list fails", func(t *testing.T) {
		s := risk.UntrustedIP{Blocked: func(context.Context) ([]netip.Prefix, error) { return nil, errDown }}
		check(t, s, risk.Attempt{UserID: "ann", IP: london, At: t0}, want{}, true)
	})
	t.Run("failure count fails", func(t *testing.T) {
		s := risk.UntrustedIP{Failures: &fakeFailures{err: errDown}}
		check(t, s, risk.Attempt{UserID: "ann", IP: london, At: t0}, want{}, true)
	})
}
