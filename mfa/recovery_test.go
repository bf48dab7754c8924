package mfa_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestRecoveryCodeWorksOnce(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	codes, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil || len(codes) != 10 {
		t.Fatalf("issued %d codes, %v; want 10", len(codes), err)
	}
	typed := " " + strings.ToLower(strings.ReplaceAll(codes[3], "-", " ")) + " "
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, typed); err != nil {
		t.Fatalf("code typed in lower case with spaces: %v", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, codes[3]); !errors.Is(err, mfa.ErrInvalidRecoveryCode) {
		t.Fatalf("second use: %v, want ErrInvalidRecoveryCode", err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 1 {
		t.Fatalf("failures = %d, want the reuse counted", n)
	}
	other := f.newUser(t)
	if err := f.svc.UseRecoveryCode(ctx, other.ID, codes[4]); !errors.Is(err, mfa.ErrInvalidRecoveryCode) {
		t.Fatalf("another user's code: %v, want ErrInvalidRecoveryCode", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, codes[4]); err != nil {
		t.Fatal(err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 0 {
		t.Fatalf("failures after a good code = %d, want 0", n)
	}
	var remaining int
	if err := f.st.Pool().QueryRow(ctx, `select (details->>'remaining')::int from audit_log where event = $1 order by id desc limit 1`,
		mfa.EventRecoveryCodeUsed).Scan(&remaining); err != nil {
		t.Fatal(err)
	}
	if f.auditCount(t, mfa.EventRecoveryCodeUsed) != 2 || remaining != 8 {
		t.Fatalf("uses audited %d times, last with %d remaining; want 2 and 8", f.auditCount(t, mfa.EventRecoveryCodeUsed), remaining)
	}

	again, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, codes[5]); !errors.Is(err, mfa.ErrInvalidRecoveryCode) {
		t.Fatalf("code of the replaced set: %v, want ErrInvalidRecoveryCode", err)
	}
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, again[5]); err != nil {
		t.Fatalf("code of the new set: %v", err)
	}
}

func TestConcurrentUsesOfOneRecoveryCodeSucceedOnce(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	codes, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Go(func() {
			if f.svc.UseRecoveryCode(ctx, f.user.ID, codes[0]) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent uses succeeded, want 1", ok.Load())
	}
}

func TestHundredConsecutiveFailuresLockTheAccountUntilReset(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	codes, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 100; i++ {
		err := f.svc.UseRecoveryCode(ctx, f.user.ID, "AAAA-BBBB-CCCC")
		switch {
		case i == 100:
			if !errors.Is(err, mfa.ErrAccountLocked) {
				t.Fatalf("100th failure: %v, want ErrAccountLocked", err)
			}
		case i%10 == 0:
			if !errors.Is(err, mfa.ErrMFALocked) {
				t.Fatalf("failure %d: %v, want a 15-minute lock", i, err)
			}
			f.clock.Advance(15 * time.Minute)
		case !errors.Is(err, mfa.ErrInvalidRecoveryCode):
			t.Fatalf("failure %d: %v, want ErrInvalidRecoveryCode", i, err)
		}
	}
	f.clock.Advance(30 * 24 * time.Hour)
	if err := f.svc.UseRecoveryCode(ctx, f.user.ID, codes[0]); !errors.Is(err, mfa.ErrAccountLocked) {
		t.Fatalf("a month later with a good code: %v, want ErrAccountLocked", err)
	}
	if err := f.svc.CheckLock(ctx, f.user.ID); !errors.Is(err, mfa.ErrAccountLocked) {
		t.Fatalf("CheckLock = %v, want ErrAccountLocked", err)
	}
	if err := f.svc.ResetMFA(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckLock(ctx, f.user.ID); err != nil {
		t.Fatalf("after an admin reset: %v, want unlocked", err)
	}
	c, code := f.start(t, mfa.StartRequest{})
	if _, err := f.svc.Verify(ctx, c.ID, code); err != nil {
		t.Fatalf("after an admin reset: %v", err)
	}
}
