package account_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/limits"
)

// signUpFrom signs user<n>@example.com up from the client address ip.
func (f fixture) signUpFrom(ip string, n int) error {
	_, err := f.svc.SignUp(ctx, fmt.Sprintf("user%d@example.com", n), "", goodPassword,
		account.Meta{IP: netip.MustParseAddr(ip)})
	return err
}

func wantSignupLimit(t *testing.T, err error, retryAt time.Time) {
	t.Helper()
	var l *account.SignupLimitError
	if !errors.As(err, &l) || !l.RetryAt.Equal(retryAt) {
		t.Fatalf("err = %v, want the signup limit until %v", err, retryAt)
	}
}

func TestTenSignupsAnHourFromOneAddress(t *testing.T) {
	f := newFixture(t)
	t0 := f.clock.Now()
	for i := range 10 {
		if err := f.signUpFrom("198.51.100.7", i); err != nil {
			t.Fatalf("signup %d: %v", i+1, err)
		}
	}
	wantSignupLimit(t, f.signUpFrom("198.51.100.7", 10), t0.Add(time.Hour))
	// Past the limit a registered address gets the same answer as a new one.
	_, err := f.svc.SignUp(ctx, "user0@example.com", "", goodPassword, home)
	wantSignupLimit(t, err, t0.Add(time.Hour))
	if n := f.auditCount(t, account.EventSignupLimitHit); n != 2 {
		t.Fatalf("%d signup limit hits audited, want 2", n)
	}
	if err := f.signUpFrom("203.0.113.9", 11); err != nil {
		t.Fatalf("another address: %v", err)
	}
	f.clock.Advance(time.Hour)
	if err := f.signUpFrom("198.51.100.7", 12); err != nil {
		t.Fatalf("the next hour: %v", err)
	}
}

func TestFiftySignupsADayFromOneAddress(t *testing.T) {
	f := newFixture(t) // 12:00 UTC
	n := 0
	for hour := range 5 {
		for range 10 {
			if err := f.signUpFrom("198.51.100.7", n); err != nil {
				t.Fatalf("signup %d in hour %d: %v", n+1, hour+1, err)
			}
			n++
		}
		f.clock.Advance(time.Hour)
	}
	wantSignupLimit(t, f.signUpFrom("198.51.100.7", n), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
}

func TestOnlySignupsThatCreateAnAccountCount(t *testing.T) {
	f := newFixture(t)
	f.signUp(t, "taken@example.com")
	for range 5 {
		if _, err := f.svc.SignUp(ctx, "taken@example.com", "", goodPassword, home); !errors.Is(err, account.ErrEmailTaken) {
			t.Fatalf("err = %v, want ErrEmailTaken", err)
		}
	}
	for i := range 9 {
		if err := f.signUpFrom(home.IP.String(), i); err != nil {
			t.Fatalf("signup %d after five taken addresses: %v", i+2, err)
		}
	}
	wantSignupLimit(t, f.signUpFrom(home.IP.String(), 9), f.clock.Now().Truncate(time.Hour).Add(time.Hour))
}

func TestSignupLimitKeysIPv6AddressesPerSlash64(t *testing.T) {
	f := twoSignupsAnHour(t)
	// The rows run in order, each counting on those before.
	tests := []struct {
		name    string
		ip      string
		refused bool
	}{
		{"first in the /64", "2001:db8:1:2::1", false},
		{"second in the same /64", "2001:db8:1:2:ffff::9", false},
		{"third in the same /64", "2001:db8:1:2:abcd::1", true},
		{"the next /64", "2001:db8:1:3::1", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l *account.SignupLimitError
			if err := f.signUpFrom(tt.ip, i); errors.As(err, &l) != tt.refused || (err != nil && l == nil) {
				t.Fatalf("err = %v, want refused=%v", err, tt.refused)
			}
		})
	}
}

// twoSignupsAnHour is a fixture whose addresses may sign up twice an hour.
func twoSignupsAnHour(t *testing.T) fixture {
	f := newFixture(t)
	d := accounttest.Deps(f.st, f.clock, accounttest.CheapParams)
	d.SignupRules = account.SignupRules{PerIP: []limits.Limit{{Max: 2, Window: time.Hour}}}
	f.svc = account.NewService(d)
	return f
}

// Limits that are unknown (the settings that set them cannot be read) count
// no signup, so accept none.
func TestClosedSignupRulesRefuseEverySignup(t *testing.T) {
	f := newFixture(t)
	d := accounttest.Deps(f.st, f.clock, accounttest.CheapParams)
	d.SignupRules = account.SignupRules{PerIP: account.DefaultSignupRules().PerIP, Closed: true}
	f.svc = account.NewService(d)
	if err := f.signUpFrom("192.0.2.1", 0); !errors.Is(err, account.ErrSignupsClosed) {
		t.Fatalf("err = %v, want ErrSignupsClosed", err)
	}
}
