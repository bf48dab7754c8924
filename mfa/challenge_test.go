package mfa_test

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestRightCodePassesOnce(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{TxID: "tx-7", AppName: "Acme", IssuerHost: "login.example.com"})

	m := f.outbox.last(t)
	wantText := "Your Acme verification code is " + code + "\n\n@login.example.com #" + code
	if m.To != ann || m.Text != wantText || m.ChallengeID != c.ID || m.UserID != f.user.ID ||
		m.Purpose != mfa.PurposeEnroll || m.CountryCode != 44 || !m.ExpiresAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("message = %+v\nwant to %s, text %q, expiring in 5 minutes", m, ann, wantText)
	}
	if c.TxID != "tx-7" || c.Masked != "•••• 3456" || c.Sends != 1 {
		t.Fatalf("challenge = %+v", c)
	}
	var stored, sealed []byte
	if err := f.st.Pool().QueryRow(ctx, `select code_hash, phone_sealed from mfa_challenges where id = $1`, c.ID).Scan(&stored, &sealed); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, mfa.NewCodeHasher(master).Hash(c.ID, code)) || bytes.Contains(sealed, []byte("7400123456")) {
		t.Fatalf("stored code %x and phone %x; want only the HMAC and the sealed number", stored, sealed)
	}

	got, err := f.svc.Verify(ctx, c.ID, code)
	if err != nil || got.UserID != f.user.ID || got.TxID != "tx-7" || !got.UsedAt.Equal(t0) {
		t.Fatalf("verify = %+v, %v", got, err)
	}
	if _, err := f.svc.Verify(ctx, c.ID, code); !errors.Is(err, mfa.ErrCodeUsed) {
		t.Fatalf("second use: %v, want ErrCodeUsed", err)
	}
	if f.auditCount(t, mfa.EventChallengeStarted) != 1 || f.auditCount(t, mfa.EventChallengePassed) != 1 {
		t.Fatal("start and pass were not both audited")
	}
	if f.failures(t, f.user.ID).Consecutive != 0 {
		t.Fatal("reusing a used code counted as a failure")
	}
}

func TestUnknownChallenge(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	for _, id := range []string{"", "nope", "00000000-0000-4000-8000-000000000000"} {
		if _, err := f.svc.Verify(ctx, id, "123456"); !errors.Is(err, mfa.ErrChallengeNotFound) {
			t.Errorf("verify %q: %v, want ErrChallengeNotFound", id, err)
		}
		if _, err := f.svc.Resend(ctx, id, home); !errors.Is(err, mfa.ErrChallengeNotFound) {
			t.Errorf("resend %q: %v, want ErrChallengeNotFound", id, err)
		}
	}
}

func TestFiveWrongCodesEndTheChallenge(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	for want := 4; want >= 1; want-- {
		_, err := f.svc.Verify(ctx, c.ID, wrongCode(code))
		var wrong *mfa.WrongCodeError
		if !errors.As(err, &wrong) || wrong.Remaining != want || !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("wrong code: %v, want WrongCodeError with %d remaining", err, want)
		}
	}
	if _, err := f.svc.Verify(ctx, c.ID, wrongCode(code)); !errors.Is(err, mfa.ErrChallengeEnded) {
		t.Fatalf("5th wrong code: %v, want ErrChallengeEnded", err)
	}
	if _, err := f.svc.Verify(ctx, c.ID, code); !errors.Is(err, mfa.ErrChallengeEnded) {
		t.Fatalf("right code after the end: %v, want ErrChallengeEnded", err)
	}
	if _, err := f.svc.Resend(ctx, c.ID, home); !errors.Is(err, mfa.ErrChallengeEnded) {
		t.Fatalf("resend after the end: %v, want ErrChallengeEnded", err)
	}
	if n := f.auditCount(t, mfa.EventChallengeFailed); n != 5 {
		t.Fatalf("failures audited = %d, want 5", n)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 5 {
		t.Fatalf("user failures = %d, want 5", n)
	}
}

func TestCodeInputToleratesSpaces(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	if _, err := f.svc.Verify(ctx, c.ID, " "+code[:3]+" "+code[3:]+" "); err != nil {
		t.Fatalf("code typed with spaces: %v", err)
	}
}

func TestExpiredCodeIsRefusedWithoutCounting(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	f.clock.Advance(5*time.Minute - time.Second)
	if _, err := f.svc.Verify(ctx, c.ID, wrongCode(code)); err == nil {
		t.Error("a wrong code passed")
	}
	f.clock.Advance(time.Second)
	for _, try := range []string{code, wrongCode(code)} {
		if _, err := f.svc.Verify(ctx, c.ID, try); !errors.Is(err, mfa.ErrCodeExpired) {
			t.Fatalf("after 5 minutes: %v, want ErrCodeExpired", err)
		}
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 1 {
		t.Fatalf("user failures = %d, want 1 (expired tries count nothing)", n)
	}
}

func TestResendAfterCooldownReplacesTheCode(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, oldCode := f.start(t, mfa.StartRequest{AppName: "Acme"})
	if _, err := f.svc.Verify(ctx, c.ID, wrongCode(oldCode)); err == nil {
		t.Error("a wrong code passed")
	}
	if _, err := f.svc.Verify(ctx, c.ID, wrongCode(oldCode)); err == nil {
		t.Error("a wrong code passed")
	}

	f.clock.Advance(29 * time.Second)
	_, err := f.svc.Resend(ctx, c.ID, home)
	var cool *mfa.CooldownError
	if !errors.As(err, &cool) || !cool.RetryAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("resend after 29s: %v, want CooldownError until 30s", err)
	}
	if f.outbox.count() != 1 {
		t.Fatal("a refused resend sent a message")
	}

	f.clock.Advance(time.Second)
	renewed, err := f.svc.Resend(ctx, c.ID, home)
	if err != nil || renewed.Sends != 2 || renewed.Attempts != 2 || !renewed.ExpiresAt.Equal(f.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("resend = %+v, %v; want 2 sends, attempts kept, a new expiry", renewed, err)
	}
	m := f.outbox.last(t)
	newCode := m.Code
	if f.outbox.count() != 2 || m.ChallengeID != c.ID || m.To != ann || m.Text != "Your Acme verification code is "+newCode {
		t.Fatalf("resent message = %+v", m)
	}
	if newCode == oldCode {
		// One in a million: the old code is then also the new one.
		t.Skip("the new code equals the old one")
	}
	_, err = f.svc.Verify(ctx, c.ID, oldCode)
	var wrong *mfa.WrongCodeError
	if !errors.As(err, &wrong) || wrong.Remaining != 2 {
		t.Fatalf("old code after resend: %v, want a wrong code with 2 attempts left (attempts not reset)", err)
	}
	if _, err := f.svc.Verify(ctx, c.ID, newCode); err != nil {
		t.Fatalf("new code: %v", err)
	}
	if _, err := f.svc.Resend(ctx, c.ID, home); !errors.Is(err, mfa.ErrCodeUsed) {
		t.Fatalf("resend of a passed challenge: %v, want ErrCodeUsed", err)
	}
}

func TestConcurrentVerificationsOfTheRightCodePassOnce(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	var wg sync.WaitGroup
	var passed, used atomic.Int32
	for range 10 {
		wg.Go(func() {
			_, err := f.svc.Verify(ctx, c.ID, code)
			switch {
			case err == nil:
				passed.Add(1)
			case errors.Is(err, mfa.ErrCodeUsed):
				used.Add(1)
			default:
				t.Errorf("verify: %v", err)
			}
		})
	}
	wg.Wait()
	if passed.Load() != 1 || used.Load() != 9 {
		t.Fatalf("%d passed, %d found it used; want 1 and 9", passed.Load(), used.Load())
	}
}

func TestConcurrentWrongCodesCountExactly(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := f.svc.Verify(ctx, c.ID, wrongCode(code)); err == nil {
				t.Error("a wrong code passed")
			}
		})
	}
	wg.Wait()
	got, err := f.svc.Challenge(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 5 || got.EndedAt.IsZero() {
		t.Fatalf("attempts %d, ended %v; want 5 and ended", got.Attempts, got.EndedAt)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 5 {
		t.Fatalf("user failures = %d, want 5: tries on an ended challenge count nothing", n)
	}
}

func TestEnrollmentCountsOnlyAfterAPassedChallenge(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	phone := mustPhone(t, ann)
	if _, err := f.svc.StartChallenge(ctx, f.request(t, mfa.StartRequest{Purpose: mfa.PurposeChallenge})); !errors.Is(err, mfa.ErrNotEnrolled) {
		t.Fatalf("login challenge before enrollment: %v, want ErrNotEnrolled", err)
	}
	if _, err := f.svc.EnrollVerified(ctx, f.user.ID, phone, false); !errors.Is(err, mfa.ErrNotVerified) {
		t.Fatalf("enroll without a challenge: %v, want ErrNotVerified", err)
	}
	c, code := f.start(t, mfa.StartRequest{})
	if _, err := f.svc.EnrollVerified(ctx, f.user.ID, phone, false); !errors.Is(err, mfa.ErrNotVerified) {
		t.Fatalf("enroll before the code: %v, want ErrNotVerified", err)
	}
	if _, err := f.svc.Verify(ctx, c.ID, code); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EnrollVerified(ctx, f.user.ID, mustPhone(t, "+447400999999"), false); !errors.Is(err, mfa.ErrNotVerified) {
		t.Fatalf("enroll another number: %v, want ErrNotVerified", err)
	}
	factor, err := f.svc.EnrollVerified(ctx, f.user.ID, phone, false)
	if err != nil || factor.Masked != "•••• 3456" || factor.UserID != f.user.ID {
		t.Fatalf("enroll = %+v, %v", factor, err)
	}
	got, ok, err := f.svc.Factor(ctx, f.user.ID)
	if err != nil || !ok || got.ID != factor.ID {
		t.Fatalf("factor = %+v, %v, %v", got, ok, err)
	}
	if p, err := f.svc.OpenPhone(got); err != nil || p != phone {
		t.Fatalf("open phone = %+v, %v; want %+v", p, err, phone)
	}
	if f.auditCount(t, mfa.EventEnrolled) != 1 {
		t.Fatal("enrollment not audited")
	}

	// A login challenge goes to the enrolled number, and only there.
	f.clock.Advance(time.Minute)
	login, err := f.svc.StartChallenge(ctx, f.request(t, mfa.StartRequest{Purpose: mfa.PurposeChallenge, TxID: "tx-2"}))
	if err != nil || f.outbox.last(t).To != ann || login.Purpose != mfa.PurposeChallenge {
		t.Fatalf("login challenge = %+v, %v, to %s", login, err, f.outbox.last(t).To)
	}
	other := mfa.StartRequest{Purpose: mfa.PurposeChallenge, Phone: mustPhone(t, "+447400999999")}
	if _, err := f.svc.StartChallenge(ctx, f.request(t, other)); !errors.Is(err, mfa.ErrPhoneNotEnrolled) {
		t.Fatalf("login challenge to another number: %v, want ErrPhoneNotEnrolled", err)
	}

	f.clock.Advance(5 * time.Minute)
	if _, err := f.svc.EnrollVerified(ctx, f.user.ID, phone, false); !errors.Is(err, mfa.ErrNotVerified) {
		t.Fatalf("enroll 6 minutes after the code: %v, want ErrNotVerified", err)
	}
}

func TestResetMFARemovesTheFactor(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	c, code := f.start(t, mfa.StartRequest{})
	if _, err := f.svc.Verify(ctx, c.ID, code); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.EnrollVerified(ctx, f.user.ID, mustPhone(t, ann), false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ResetMFA(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.svc.Factor(ctx, f.user.ID); ok || err != nil {
		t.Fatalf("factor after reset: %v, %v; want none", ok, err)
	}
	var codes int
	if err := f.st.Pool().QueryRow(ctx, `select count(*) from mfa_recovery_codes`).Scan(&codes); err != nil {
		t.Fatal(err)
	}
	if codes != 0 || f.auditCount(t, mfa.EventReset) != 1 {
		t.Fatalf("%d recovery codes left, reset audited %d times", codes, f.auditCount(t, mfa.EventReset))
	}
}

func TestOutboxFailureUndoesTheChallengeAndItsCount(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	f.outbox.err = errors.New("outbox down")
	for range 3 {
		if _, err := f.svc.StartChallenge(ctx, f.request(t, mfa.StartRequest{})); err == nil {
			t.Fatal("start succeeded while the outbox failed")
		}
	}
	var challenges, counted int
	if err := f.st.Pool().QueryRow(ctx, `select count(*) from mfa_challenges`).Scan(&challenges); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Pool().QueryRow(ctx, `select coalesce(sum(count), 0) from sms_send_counters`).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if challenges != 0 || counted != 0 {
		t.Fatalf("%d challenges and %d counted sends left behind, want none", challenges, counted)
	}
	f.outbox.err = nil
	for range 3 {
		f.start(t, mfa.StartRequest{}) // the phone's three sends per 10 minutes are all still there
	}
}

func TestStartRefusesMalformedRequests(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	for _, r := range []mfa.StartRequest{
		{UserID: f.user.ID, TxID: "", Purpose: mfa.PurposeEnroll, Phone: mustPhone(t, ann)},
		{UserID: f.user.ID, TxID: "tx", Purpose: "other", Phone: mustPhone(t, ann)},
		{UserID: f.user.ID, TxID: "tx", Purpose: mfa.PurposeEnroll},
	} {
		if _, err := f.svc.StartChallenge(ctx, r); !errors.Is(err, mfa.ErrInvalidRequest) {
			t.Errorf("%+v: %v, want ErrInvalidRequest", r, err)
		}
	}
}
