package risk_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

type fakeCredentials struct {
	password, phone time.Time
	err             error
}

func (f fakeCredentials) Credentials(context.Context, string) (time.Time, time.Time, error) {
	return f.password, f.phone, f.err
}

func TestRecentCredentialChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		creds  fakeCredentials
		window time.Duration
		want   want
	}{
		{"never changed", fakeCredentials{}, 0,
			want{risk: risk.None, reason: "No password or phone change in the last 7 days."}},
		{"changed long ago", fakeCredentials{password: t0.Add(-8 * time24), phone: t0.Add(-30 * time24)}, 0,
			want{risk: risk.None, reason: "No password or phone change in the last 7 days."}},
		{"password changed yesterday", fakeCredentials{password: t0.Add(-time24)}, 0,
			want{risk: risk.Medium, reason: "The password changed 24 h ago."}},
		{"phone changed at the window's edge", fakeCredentials{phone: t0.Add(-7 * time24)}, 0,
			want{risk: risk.Medium, reason: "The phone number changed 7 days ago."}},
		{"both changed", fakeCredentials{password: t0.Add(-3 * time24), phone: t0.Add(-90 * time.Minute)}, 0,
			want{risk: risk.Medium, reason: "The password changed 3 days ago; the phone number changed 1 h 30 min ago."}},
		{"a shorter window", fakeCredentials{password: t0.Add(-3 * time.Hour)}, 2 * time.Hour,
			want{risk: risk.None, reason: "No password or phone change in the last 2 h."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := risk.RecentCredentialChange{Credentials: tc.creds, Window: tc.window}
			check(t, s, risk.Attempt{UserID: "ann", IP: london, At: t0}, tc.want, false)
		})
	}
	t.Run("storage fails", func(t *testing.T) {
		s := risk.RecentCredentialChange{Credentials: fakeCredentials{err: errDown}}
		check(t, s, risk.Attempt{UserID: "ann", IP: london, At: t0}, want{}, true)
	})
}
