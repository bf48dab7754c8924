package mfa_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestAnAppSetupIsSeenOnlyWhereItBegan(t *testing.T) {
	f := newTOTPFixture(t)
	setup := f.beginTOTP(t, f.user.ID) // setup id "setup"
	if _, err := f.svc.TOTPQRCode(ctx, f.user.ID, "other session", "ann@example.com", "Gatehouse", 200); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("another session drew the pending secret's QR code: %v", err)
	}
	code := appCode(t, setup.Secret, f.clock.Now())
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "other session", code, false); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("another session confirmed the pending secret: %v", err)
	}
	if _, err := f.svc.BeginTOTP(ctx, f.user.ID, "other session", "ann@example.com", "Gatehouse"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", code, false); err != nil {
		t.Fatalf("a setup begun elsewhere replaced this one: %v", err)
	}
}

func TestAFirstEnrollmentFailsOnceAnotherFactorExists(t *testing.T) {
	f := newTOTPFixture(t)
	setup := f.beginTOTP(t, f.user.ID)
	if _, err := f.svc.EnrollByOperator(ctx, f.user.ID, f.newPhone(t)); err != nil {
		t.Fatal(err)
	}
	err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", appCode(t, setup.Secret, f.clock.Now()), true)
	if !errors.Is(err, mfa.ErrFactorExists) || f.hasTOTP(t, f.user.ID) {
		t.Fatalf("first-only app confirmation beside a phone: %v, app kept %v", err, f.hasTOTP(t, f.user.ID))
	}
}

func TestParallelWrongAppCodesStopAtTheLock(t *testing.T) {
	rules := mfa.DefaultRules()
	f := newTOTPFixture(t)
	secret := f.enrollTOTP(t, f.user.ID)
	wrong := wrongAppCode(t, secret, f.clock.Now())
	var wg sync.WaitGroup
	for range 3 * rules.LockAfter {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.svc.VerifyTOTP(ctx, f.user.ID, wrong); err == nil {
				t.Error("a wrong code passed")
			}
		}()
	}
	wg.Wait()
	var counted int
	if err := f.st.Pool().QueryRow(ctx, `select total from mfa_user_failures where user_id = $1`, f.user.ID).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != rules.LockAfter {
		t.Fatalf("%d wrong codes at once were checked, want %d: the lock must stop the rest", counted, rules.LockAfter)
	}
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, f.clock.Now())); !errors.Is(err, mfa.ErrMFALocked) {
		t.Fatalf("the right code during the lock: %v, want the lock", err)
	}
}
