package mfa_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// holding gives the user a phone, an app or both, recovery codes and a
// remembered browser, and returns the phone's factor id ("" without one).
func (f *fixture) holding(t *testing.T, u account.User, phone, app bool) string {
	t.Helper()
	var id string
	if phone {
		p, err := f.svc.EnrollByOperator(ctx, u.ID, f.newPhone(t))
		if err != nil {
			t.Fatal(err)
		}
		id = p.ID
	}
	if app {
		f.enrollTOTP(t, u.ID)
	}
	if _, err := f.svc.IssueRecoveryCodes(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	f.trust(t, u.ID)
	return id
}

func (f *fixture) codesLeft(t *testing.T, userID string) int {
	t.Helper()
	n, err := f.svc.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRemovingThePhone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		app       bool   // the user also has an authenticator app
		formID    string // "": the phone's own id
		err       error
		codesLeft int
	}{
		{name: "the last factor takes the recovery codes with it", codesLeft: 0},
		{name: "beside an app the recovery codes stay", app: true, codesLeft: 10},
		{name: "a form from before the phone changed removes nothing", formID: "00000000-0000-4000-8000-000000000000", err: mfa.ErrNotEnrolled, codesLeft: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTOTPFixture(t)
			id := f.holding(t, f.user, true, tc.app)
			bystander := f.newUser(t)
			f.holding(t, bystander, true, false)
			if tc.formID != "" {
				id = tc.formID
			}

			err := f.svc.RemovePhone(ctx, f.user.ID, id)
			if !errors.Is(err, tc.err) {
				t.Fatalf("remove: %v, want %v", err, tc.err)
			}
			_, has, err := f.svc.Factor(ctx, f.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if has != (tc.err != nil) {
				t.Fatalf("after removal the user has a phone: %v", has)
			}
			if n := f.codesLeft(t, f.user.ID); n != tc.codesLeft {
				t.Fatalf("%d recovery codes left, want %d", n, tc.codesLeft)
			}
			if got := f.hasTOTP(t, f.user.ID); got != tc.app {
				t.Fatalf("app after removing the phone: %v, want %v", got, tc.app)
			}
			browsers, err := f.svc.TrustedBrowsers(ctx, f.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (len(browsers) == 0) != (tc.err == nil) {
				t.Fatalf("%d remembered browsers left", len(browsers))
			}
			if n := f.auditCount(t, mfa.EventPhoneRemoved); n != map[bool]int{true: 1, false: 0}[tc.err == nil] {
				t.Fatalf("removal audited %d times", n)
			}
			if _, has, err := f.svc.Factor(ctx, bystander.ID); err != nil || !has || f.codesLeft(t, bystander.ID) != 10 {
				t.Fatal("another user's phone or codes were touched")
			}
		})
	}
}

func TestAnotherUsersPhoneIsNotRemovedByItsID(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	f.holding(t, f.user, true, false)
	other := f.newUser(t)
	otherID := f.holding(t, other, true, false)
	if err := f.svc.RemovePhone(ctx, f.user.ID, otherID); !errors.Is(err, mfa.ErrNotEnrolled) {
		t.Fatalf("remove with another user's factor id: %v, want ErrNotEnrolled", err)
	}
	if _, has, err := f.svc.Factor(ctx, other.ID); err != nil || !has {
		t.Fatal("the other user's phone was removed")
	}
}

func TestRemovingTheLastAppRemovesTheRecoveryCodes(t *testing.T) {
	f := newTOTPFixture(t)
	f.holding(t, f.user, false, true)
	if err := f.svc.RemoveTOTP(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.codesLeft(t, f.user.ID); n != 0 {
		t.Fatalf("%d recovery codes left after the last factor went, want none", n)
	}
}

func TestRegeneratingRecoveryCodes(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	f.holding(t, f.user, true, false)
	old, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, old[0]); err != nil {
		t.Fatal(err)
	}

	fresh, err := f.svc.RegenerateRecoveryCodes(ctx, f.user.ID)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("regenerate: %d codes, %v; want 10", len(fresh), err)
	}
	if n := f.codesLeft(t, f.user.ID); n != 10 {
		t.Fatalf("%d codes left, want the ten new ones", n)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, old[1]); !errors.Is(err, mfa.ErrInvalidRecoveryCode) {
		t.Fatalf("an old code after regenerating: %v, want ErrInvalidRecoveryCode", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, fresh[1]); err != nil {
		t.Fatalf("a new code: %v", err)
	}

	none := f.newUser(t)
	if _, err := f.svc.RegenerateRecoveryCodes(ctx, none.ID); !errors.Is(err, mfa.ErrNoSecondFactor) {
		t.Fatalf("a user with no factor: %v, want ErrNoSecondFactor", err)
	}
	if n := f.codesLeft(t, none.ID); n != 0 {
		t.Fatalf("a user with no factor got %d codes", n)
	}
}
