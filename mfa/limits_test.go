package mfa_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// send starts an enrollment; zero fields get a fresh user, phone or address,
// so that only the limit under test can refuse it.
func (f *fixture) send(t *testing.T, svc *mfa.Service, userID string, phone mfa.Phone, ip netip.Addr) error {
	t.Helper()
	if userID == "" {
		userID = f.newUser(t).ID
	}
	if phone.E164 == "" {
		phone = f.newPhone(t)
	}
	if !ip.IsValid() {
		ip = f.newIP()
	}
	_, err := svc.StartChallenge(ctx, mfa.StartRequest{UserID: userID, TxID: "tx", Purpose: mfa.PurposeEnroll, Phone: phone, IP: ip})
	return err
}

func wantLimit(t *testing.T, err error, limit string, retryAt time.Time) {
	t.Helper()
	var l *mfa.LimitError
	if !errors.As(err, &l) || l.Limit != limit || !l.RetryAt.Equal(retryAt) {
		t.Fatalf("err = %v, want the %s limit until %v", err, limit, retryAt)
	}
}

func (f *fixture) limitAudits(t *testing.T, limit string) int {
	t.Helper()
	var n int
	err := f.st.Pool().QueryRow(ctx, `select count(*) from audit_log where event = $1 and details->>'limit' = $2`,
		mfa.EventLimitHit, limit).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPhoneLimitsThreePerTenMinutesAndTenPerDay(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	phone := mustPhone(t, ann)
	for range 3 {
		if err := f.send(t, f.svc, "", phone, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
	wantLimit(t, f.send(t, f.svc, "", phone, netip.Addr{}), "phone", t0.Add(10*time.Minute))
	if f.outbox.count() != 3 || f.limitAudits(t, "phone") != 1 {
		t.Fatalf("%d messages, %d limit audits; want 3 and 1", f.outbox.count(), f.limitAudits(t, "phone"))
	}
	if err := f.send(t, f.svc, "", f.newPhone(t), netip.Addr{}); err != nil {
		t.Fatalf("another phone: %v", err)
	}

	// Three more in each following 10 minutes, until ten in the day.
	for sent := 3; sent < 10; sent++ {
		if sent%3 == 0 {
			f.clock.Advance(10 * time.Minute)
		}
		if err := f.send(t, f.svc, "", phone, netip.Addr{}); err != nil {
			t.Fatalf("send %d: %v", sent+1, err)
		}
	}
	wantLimit(t, f.send(t, f.svc, "", phone, netip.Addr{}), "phone", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
}

func TestIPLimit(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	for i := range 10 {
		if err := f.send(t, f.svc, "", mfa.Phone{}, home); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	wantLimit(t, f.send(t, f.svc, "", mfa.Phone{}, home), "ip", t0.Add(time.Hour))
	if err := f.send(t, f.svc, "", mfa.Phone{}, f.newIP()); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if f.limitAudits(t, "ip") != 1 {
		t.Fatal("limit not audited")
	}
}

func TestIPv6AddressesCountPerSlash64(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.IPLimits = []limits.Limit{{Max: 2, Window: time.Hour}}
	f := newFixture(t, rules)
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		if err := f.send(t, f.svc, "", mfa.Phone{}, netip.MustParseAddr(ip)); err != nil {
			t.Fatal(err)
		}
	}
	wantLimit(t, f.send(t, f.svc, "", mfa.Phone{}, netip.MustParseAddr("2001:db8:1:2:abcd::1")), "ip", t0.Add(time.Hour))
	if err := f.send(t, f.svc, "", mfa.Phone{}, netip.MustParseAddr("2001:db8:1:3::1")); err != nil {
		t.Fatalf("next /64: %v", err)
	}
}

func TestUserLimitCoversResends(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	first, _ := f.start(t, mfa.StartRequest{IP: f.newIP()})
	for i := 1; i < 10; i++ {
		if err := f.send(t, f.svc, f.user.ID, mfa.Phone{}, netip.Addr{}); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	wantLimit(t, f.send(t, f.svc, f.user.ID, mfa.Phone{}, netip.Addr{}), "user", t0.Add(time.Hour))
	f.clock.Advance(time.Minute)
	_, err := f.svc.Resend(ctx, first.ID, f.newIP())
	wantLimit(t, err, "user", t0.Add(time.Hour))
	if got, err := f.svc.Challenge(ctx, first.ID); err != nil || got.Sends != 1 {
		t.Fatalf("refused resend counted: %d sends (%v)", got.Sends, err)
	}
	if err := f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}); err != nil {
		t.Fatalf("another user: %v", err)
	}
}

// signIn sends a sign-in code to a fresh user's verified phone from a fresh
// address, so that only the installation-wide limits can refuse it.
func (f *fixture) signIn(t *testing.T) error {
	t.Helper()
	u := f.newUser(t)
	if _, err := f.svc.EnrollByOperator(ctx, u.ID, f.newPhone(t)); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.StartChallenge(ctx, mfa.StartRequest{UserID: u.ID, TxID: "tx", Purpose: mfa.PurposeChallenge, IP: f.newIP()})
	return err
}

func TestGlobalBudget(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 3, Window: time.Hour}}
	f := newFixture(t, rules)
	for range 3 {
		if err := f.signIn(t); err != nil {
			t.Fatal(err)
		}
	}
	wantLimit(t, f.signIn(t), "global", t0.Add(time.Hour))
	if f.limitAudits(t, "global") != 1 {
		t.Fatal("limit not audited")
	}
	f.clock.Advance(time.Hour)
	if err := f.signIn(t); err != nil {
		t.Fatalf("next hour: %v", err)
	}
}

func TestEnrollmentSpendsOnlyItsShareOfTheGlobalBudget(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 4, Window: time.Hour}}
	rules.EnrollShare = 50
	f := newFixture(t, rules)
	for range 2 {
		if err := f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	wantLimit(t, f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}), "global_enroll", t0.Add(time.Hour))
	if f.limitAudits(t, "global_enroll") != 1 {
		t.Fatal("the enrollment share's refusal is not audited")
	}

	// The half kept back goes to verified phones, and then the whole budget is spent.
	for i := range 2 {
		if err := f.signIn(t); err != nil {
			t.Fatalf("sign-in code %d after the enrollment flood: %v", i+1, err)
		}
	}
	wantLimit(t, f.signIn(t), "global", t0.Add(time.Hour))
	wantLimit(t, f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}), "global", t0.Add(time.Hour))

	f.clock.Advance(time.Hour)
	if err := f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}); err != nil {
		t.Fatalf("enrollment in the next hour: %v", err)
	}
}

func TestSignInCodesMaySpendTheWholeGlobalBudget(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 2, Window: time.Hour}}
	f := newFixture(t, rules)
	for range 2 {
		if err := f.signIn(t); err != nil {
			t.Fatal(err)
		}
	}
	// The enrollment share is untouched, but nothing is left of the whole.
	wantLimit(t, f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}), "global", t0.Add(time.Hour))
}

func TestEnrollmentResendsCountAgainstTheShare(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 4, Window: time.Hour}}
	f := newFixture(t, rules)
	c, _ := f.start(t, mfa.StartRequest{})
	f.clock.Advance(rules.ResendCooldown)
	if _, err := f.svc.Resend(ctx, c.ID, home); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(rules.ResendCooldown)
	_, err := f.svc.Resend(ctx, c.ID, home)
	wantLimit(t, err, "global_enroll", t0.Add(time.Hour))
	if err := f.signIn(t); err != nil {
		t.Fatalf("sign-in code: %v", err)
	}
}

func TestTheEnrollmentShareOfEachGlobalBudget(t *testing.T) {
	hour := time.Hour
	for _, tt := range []struct {
		name   string
		global []limits.Limit
		share  int
		want   []mfa.BudgetUse // Limit, Window and Max
	}{
		{"half by default", []limits.Limit{{Max: 1000, Window: hour}}, 50,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 1000}, {Limit: "global_enroll", Window: hour, Max: 500}}},
		{"rounds down", []limits.Limit{{Max: 5, Window: hour}}, 50,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 5}, {Limit: "global_enroll", Window: hour, Max: 2}}},
		{"never below one send", []limits.Limit{{Max: 3, Window: hour}}, 10,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 3}, {Limit: "global_enroll", Window: hour, Max: 1}}},
		{"each window", []limits.Limit{{Max: 100, Window: hour}, {Max: 1000, Window: 24 * hour}}, 30,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 100}, {Limit: "global", Window: 24 * hour, Max: 1000},
				{Limit: "global_enroll", Window: hour, Max: 30}, {Limit: "global_enroll", Window: 24 * hour, Max: 300}}},
		{"100 keeps nothing back", []limits.Limit{{Max: 1000, Window: hour}}, 100,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 1000}}},
		{"0 keeps nothing back", []limits.Limit{{Max: 1000, Window: hour}}, 0,
			[]mfa.BudgetUse{{Limit: "global", Window: hour, Max: 1000}}},
		{"no global budget, no share", []limits.Limit{{Max: 0, Window: hour}}, 50, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rules := mfa.DefaultRules()
			rules.GlobalLimits, rules.EnrollShare = tt.global, tt.share
			f := newFixture(t, rules)
			got, err := f.svc.Budgets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("budgets %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Limit != w.Limit || g.Window != w.Window || g.Max != w.Max || g.Sent != 0 {
					t.Fatalf("budget %d: %+v, want %+v with nothing sent", i, g, w)
				}
			}
		})
	}
}

func TestBudgetsCountTheCurrentWindow(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.GlobalLimits = []limits.Limit{{Max: 10, Window: time.Hour}}
	f := newFixture(t, rules)
	f.clock.Advance(20 * time.Minute)
	for range 2 {
		if err := f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.signIn(t); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Budgets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Hour)
	if len(got) != 2 || got[0].Sent != 3 || got[0].Max != 10 || !got[0].WindowEnd.Equal(end) ||
		got[1].Sent != 2 || got[1].Max != 5 || !got[1].WindowEnd.Equal(end) {
		t.Fatalf("budgets %+v; want global 3 of 10 and global_enroll 2 of 5, both until %v", got, end)
	}
	f.clock.Advance(time.Hour)
	if got, err := f.svc.Budgets(ctx); err != nil || len(got) != 2 || got[0].Sent != 0 || got[1].Sent != 0 {
		t.Fatalf("next hour: %+v (%v), want nothing sent", got, err)
	}
}

func TestCountryLimit(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.CountryLimits = map[int]limits.Limit{1: {Max: 1, Window: time.Hour}}
	f := newFixture(t, rules)
	if err := f.send(t, f.svc, "", mustPhone(t, "+1 415 555 2671"), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	wantLimit(t, f.send(t, f.svc, "", mustPhone(t, "+1 415 555 2672"), netip.Addr{}), "country", t0.Add(time.Hour))
	if err := f.send(t, f.svc, "", mfa.Phone{}, netip.Addr{}); err != nil {
		t.Fatalf("+44 has no country limit: %v", err)
	}
}

func TestTwoServicesShareLimitsAndChallenges(t *testing.T) {
	url := storetest.NewDatabase(t)
	var stores [2]*store.Store
	for i := range stores {
		st, err := store.Open(ctx, url, store.PoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		stores[i] = st
	}
	f := &fixture{st: stores[0], clock: accounttest.NewClock(t0), outbox: &outbox{}}
	a := newService(t, stores[0], f.clock, f.outbox, mfa.DefaultRules())
	b := newService(t, stores[1], f.clock, f.outbox, mfa.DefaultRules())
	phone := mustPhone(t, ann)
	for _, svc := range []*mfa.Service{a, b, a} {
		if err := f.send(t, svc, "", phone, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, svc := range []*mfa.Service{a, b} {
		wantLimit(t, f.send(t, svc, "", phone, netip.Addr{}), "phone", t0.Add(10*time.Minute))
	}
	m := f.outbox.last(t)
	if _, err := b.Verify(ctx, m.ChallengeID, m.Code); err != nil {
		t.Fatalf("code sent by one replica, checked by the other: %v", err)
	}
}

func TestFailuresAcrossResendsAndChallengesLockMFA(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	first, code := f.start(t, mfa.StartRequest{})
	f.refuse(t, first.ID, wrongCode(code), mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode)
	f.clock.Advance(30 * time.Second)
	if _, err := f.svc.Resend(ctx, first.ID, home); err != nil {
		t.Fatal(err)
	}
	code = f.outbox.last(t).Code
	// A resend keeps the challenge's count of wrong codes: the fifth ends it.
	f.refuse(t, first.ID, wrongCode(code), mfa.ErrWrongCode, mfa.ErrChallengeEnded)
	f.clock.Advance(time.Minute)
	second, code := f.start(t, mfa.StartRequest{TxID: "tx-2"})
	f.refuse(t, second.ID, wrongCode(code), mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode)
	if n := f.failures(t, f.user.ID).Consecutive; n != 9 {
		t.Fatalf("failures = %d, want 9 across two challenges and a resend", n)
	}

	_, err := f.svc.Verify(ctx, second.ID, wrongCode(code))
	var locked *mfa.LockedError
	until := f.clock.Now().Add(15 * time.Minute)
	if !errors.As(err, &locked) || !locked.Until.Equal(until) || !errors.Is(err, mfa.ErrMFALocked) {
		t.Fatalf("10th failure: %v, want LockedError until %v", err, until)
	}
	f.clock.Advance(14 * time.Minute)
	third, thirdCode := f.start(t, mfa.StartRequest{UserID: f.newUser(t).ID}) // another user is not locked
	if _, err := f.svc.StartChallenge(ctx, f.request(t, mfa.StartRequest{})); !errors.As(err, &locked) {
		t.Fatalf("start while locked: %v, want LockedError", err)
	}
	if _, err := f.svc.Resend(ctx, first.ID, home); !errors.As(err, &locked) {
		t.Fatalf("resend while locked: %v, want LockedError", err)
	}
	if _, err := f.svc.Verify(ctx, third.ID, thirdCode); err != nil {
		t.Fatalf("another user while this one is locked: %v", err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 10 {
		t.Fatalf("failures = %d, want 10: refusals while locked count nothing", n)
	}
	var started int
	if err := f.st.Pool().QueryRow(ctx, `select count(*) from audit_log where event = $1 and details ? 'started'`, mfa.EventLocked).Scan(&started); err != nil {
		t.Fatalf("counting the lock's audit events: %v", err)
	}
	if started != 1 || f.auditCount(t, mfa.EventLocked) != 3 {
		t.Fatalf("lock audited %d times as started, %d in all; want 1 and 3 (two refusals)", started, f.auditCount(t, mfa.EventLocked))
	}

	f.clock.Advance(time.Minute)
	c, code := f.start(t, mfa.StartRequest{TxID: "tx-3"})
	if _, err := f.svc.Verify(ctx, c.ID, code); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 0 {
		t.Fatalf("failures after a success = %d, want 0", n)
	}
}

// refuse types code into challenge id once for each error in want, and
// checks that each attempt is refused with that error.
func (f *fixture) refuse(t *testing.T, id, code string, want ...error) {
	t.Helper()
	for i, w := range want {
		if _, err := f.svc.Verify(ctx, id, code); !errors.Is(err, w) {
			t.Fatalf("attempt %d of %d: %v, want %v", i+1, len(want), err, w)
		}
	}
}

func TestSuccessResetsTheConsecutiveFailures(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	for round := range 2 {
		c, code := f.start(t, mfa.StartRequest{Phone: f.newPhone(t)})
		f.refuse(t, c.ID, wrongCode(code), mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrChallengeEnded)
		c, code = f.start(t, mfa.StartRequest{Phone: f.newPhone(t)})
		f.refuse(t, c.ID, wrongCode(code), mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode, mfa.ErrWrongCode)
		if _, err := f.svc.Verify(ctx, c.ID, code); err != nil {
			t.Fatalf("round %d: %v after 9 failures, want success", round+1, err)
		}
	}
}
