package mfa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/settings"
)

// riskEngine is the engine as production wires it, on the fixture's store
// with real settings and no GeoIP database.
func (f *fixture) riskEngine(t *testing.T) (*risk.Engine, *settings.Service) {
	t.Helper()
	tenant, err := settings.NewService(f.st, f.st, master, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.RiskEngine(mfa.AdaptiveSources{History: f.st, Failures: f.st, Users: f.st, Tenant: tenant}), tenant
}

func finding(t *testing.T, a risk.Assessment, signal string) risk.Finding {
	t.Helper()
	for _, f := range a.Findings {
		if f.Signal == signal {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", signal, a.Findings)
	return risk.Finding{}
}

func TestTheRiskEngineRunsEverySignal(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	engine, _ := f.riskEngine(t)
	a := engine.Assess(ctx, risk.Attempt{UserID: f.user.ID, IP: home, At: f.clock.Now()})
	var names []string
	for _, finding := range a.Findings {
		names = append(names, finding.Signal)
	}
	want := "new_device impossible_travel untrusted_ip new_country recent_credential_change"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("signals %q, want %q", got, want)
	}
}

// The recent-change signal reads the password's and the phone's change times
// through the production adapter.
func TestTheRecentChangeSignalSeesPasswordAndPhoneChanges(t *testing.T) {
	const week = 7 * 24 * time.Hour
	tests := []struct {
		name   string
		change func(t *testing.T, f *fixture, u account.User)
		after  time.Duration // from the change to the login
		risk   risk.Level
		reason string
	}{
		{"the password set at signup is not a change", func(*testing.T, *fixture, account.User) {}, time.Hour,
			risk.None, "No password or phone change"},
		{"a password changed after signup is", func(t *testing.T, f *fixture, u account.User) {
			if err := f.st.SetPasswordHash(ctx, u.ID, "$argon2id$new", f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}, 2 * time.Hour, risk.Medium, "The password changed 2 h ago."},
		{"a phone verified this week is", func(t *testing.T, f *fixture, u account.User) {
			if _, err := f.svc.EnrollByOperator(ctx, u.ID, f.newPhone(t)); err != nil {
				t.Fatal(err)
			}
		}, 3 * 24 * time.Hour, risk.Medium, "The phone number changed 3 days ago."},
		{"a password changed over a week ago is not", func(t *testing.T, f *fixture, u account.User) {
			if err := f.st.SetPasswordHash(ctx, u.ID, "$argon2id$new", f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}, week + time.Hour, risk.None, "No password or phone change"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, mfa.DefaultRules())
			u, err := f.st.CreateUser(ctx, account.NewUser{Email: "ann@example.com", PasswordHash: "$argon2id$first", CreatedAt: f.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(30 * 24 * time.Hour)
			tc.change(t, f, u)
			f.clock.Advance(tc.after)
			engine, _ := f.riskEngine(t)
			got := finding(t, engine.Assess(ctx, risk.Attempt{UserID: u.ID, IP: home, At: f.clock.Now()}), "recent_credential_change")
			if got.Risk != tc.risk || got.Unavailable || !strings.HasPrefix(got.Reason, tc.reason) {
				t.Fatalf("finding %v %q (unavailable %v), want %v %q", got.Risk, got.Reason, got.Unavailable, tc.risk, tc.reason)
			}
		})
	}
}

// The block list and the medium rule follow the admin's settings.
func TestTheRiskEngineFollowsTheSettings(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	engine, tenant := f.riskEngine(t)
	attempt := risk.Attempt{UserID: f.user.ID, IP: home, At: f.clock.Now()}
	if got := finding(t, engine.Assess(ctx, attempt), "untrusted_ip"); got.Risk != risk.None {
		t.Fatalf("before the block: %v %q", got.Risk, got.Reason)
	}
	if engine.ChallengesMedium(ctx) {
		t.Fatal("medium confidence challenged by default")
	}
	if err := tenant.Set(ctx, map[string]string{settings.KeyBlockedNetworks: "198.51.100.0/24",
		settings.KeyChallengeMedium: "true"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if got := finding(t, engine.Assess(ctx, attempt), "untrusted_ip"); got.Risk != risk.High {
		t.Fatalf("after the block: %v %q, want high", got.Risk, got.Reason)
	}
	if !engine.ChallengesMedium(ctx) {
		t.Fatal("medium confidence not challenged after the admin turned it on")
	}
}
