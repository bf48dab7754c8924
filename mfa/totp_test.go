package mfa_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image"
	_ "image/png"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/mfa"
)

const totpStep = 30 * time.Second

// newTOTPFixture is a fixture whose service has authenticator apps turned on.
func newTOTPFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, mfa.DefaultRules())
	vault, err := mfa.NewPhoneVault(master)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := mfa.NewTOTPVault(master)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = mfa.NewService(mfa.Deps{
		Store: f.st, Outbox: f.outbox, Audit: f.st, Codes: mfa.NewCodeHasher(master), Vault: vault, TOTP: tv,
		Rules: mfa.DefaultRules(), Now: f.clock.Now,
	})
	return f
}

// appCode is the code an authenticator app holding secret shows at at.
func appCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrongAppCode is a code that no step within one of at shows.
func wrongAppCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := map[string]bool{}
	for _, d := range []time.Duration{-totpStep, 0, totpStep} {
		near[appCode(t, secret, at.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	panic("unreachable")
}

func (f *fixture) beginTOTP(t *testing.T, userID string) mfa.TOTPSetup {
	t.Helper()
	setup, err := f.svc.BeginTOTP(ctx, userID, "setup", "ann@example.com", "Gatehouse")
	if err != nil {
		t.Fatalf("begin totp: %v", err)
	}
	return setup
}

// enrollTOTP gives the user an authenticator, confirmed now, and returns its secret.
func (f *fixture) enrollTOTP(t *testing.T, userID string) string {
	t.Helper()
	setup := f.beginTOTP(t, userID)
	if err := f.svc.ConfirmTOTP(ctx, userID, "setup", appCode(t, setup.Secret, f.clock.Now()), false); err != nil {
		t.Fatalf("confirm totp: %v", err)
	}
	return setup.Secret
}

func (f *fixture) hasTOTP(t *testing.T, userID string) bool {
	t.Helper()
	ok, err := f.svc.HasTOTP(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestTOTPEnrollment(t *testing.T) {
	f := newTOTPFixture(t)
	setup := f.beginTOTP(t, f.user.ID)
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret); err != nil || len(raw) != 20 {
		t.Fatalf("secret %q decodes to %d bytes, %v; want 20", setup.Secret, len(raw), err)
	}
	u, err := url.Parse(setup.URI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:ann@example.com" || q.Get("secret") != setup.Secret ||
		q.Get("issuer") != "Gatehouse" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("URI %s is not the expected otpauth URI", setup.URI)
	}

	png, err := f.svc.TOTPQRCode(ctx, f.user.ID, "setup", "ann@example.com", "Gatehouse", 200)
	if err != nil {
		t.Fatalf("QR code: %v", err)
	}
	img, format, err := image.Decode(bytes.NewReader(png))
	if err != nil || format != "png" || img.Bounds().Dx() != 200 || img.Bounds().Dy() != 200 {
		t.Fatalf("QR code decodes as %s %v, %v; want a 200×200 PNG", format, img.Bounds(), err)
	}
	if _, err := f.svc.TOTPQRCode(ctx, f.newUser(t).ID, "setup", "b@example.com", "Gatehouse", 200); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("QR code without setup: %v, want ErrNoPendingTOTP", err)
	}

	now := f.clock.Now()
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", wrongAppCode(t, setup.Secret, now), false); !errors.Is(err, mfa.ErrWrongTOTP) {
		t.Fatalf("confirm with a wrong code: %v, want ErrWrongTOTP", err)
	}
	if f.hasTOTP(t, f.user.ID) {
		t.Fatal("enrolled after a wrong code")
	}
	code := appCode(t, setup.Secret, now)
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", code[:3]+" "+code[3:], false); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if !f.hasTOTP(t, f.user.ID) {
		t.Fatal("not enrolled after confirming")
	}
	if n := f.auditCount(t, mfa.EventTOTPEnrolled); n != 1 {
		t.Fatalf("enrollment audited %d times, want 1", n)
	}
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", code, false); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("second confirm: %v, want ErrNoPendingTOTP", err)
	}
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, code); !errors.Is(err, mfa.ErrTOTPReplayed) {
		t.Fatalf("verify with the confirmation code: %v, want ErrTOTPReplayed", err)
	}
}

func TestTOTPPendingSetupExpiresAndIsReplaced(t *testing.T) {
	f := newTOTPFixture(t)
	first := f.beginTOTP(t, f.user.ID)
	f.clock.Advance(10 * time.Minute)
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", appCode(t, first.Secret, f.clock.Now()), false); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("confirm after 10 minutes: %v, want ErrNoPendingTOTP", err)
	}
	if _, err := f.svc.TOTPQRCode(ctx, f.user.ID, "setup", "ann@example.com", "Gatehouse", 200); !errors.Is(err, mfa.ErrNoPendingTOTP) {
		t.Fatalf("QR code after 10 minutes: %v, want ErrNoPendingTOTP", err)
	}

	old := f.beginTOTP(t, f.user.ID)
	replacement := f.beginTOTP(t, f.user.ID)
	now := f.clock.Now()
	if appCode(t, old.Secret, now) != appCode(t, replacement.Secret, now) {
		if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", appCode(t, old.Secret, now), false); !errors.Is(err, mfa.ErrWrongTOTP) {
			t.Fatalf("confirm with the replaced secret: %v, want ErrWrongTOTP", err)
		}
	}
	f.clock.Advance(10*time.Minute - time.Second)
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", appCode(t, replacement.Secret, f.clock.Now()), false); err != nil {
		t.Fatalf("confirm a second before expiry: %v", err)
	}
}

func TestTOTPEachStepIsAcceptedOnce(t *testing.T) {
	f := newTOTPFixture(t)
	secret := f.enrollTOTP(t, f.user.ID)
	f.clock.Advance(5 * time.Minute)
	now := f.clock.Now()
	verify := func(at time.Time) error { return f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, at)) }

	if err := verify(now.Add(-totpStep)); err != nil {
		t.Fatalf("code of the previous step: %v", err)
	}
	if err := verify(now.Add(-totpStep)); !errors.Is(err, mfa.ErrTOTPReplayed) {
		t.Fatalf("the previous step's code again: %v, want ErrTOTPReplayed", err)
	}
	if err := verify(now.Add(-2 * totpStep)); !errors.Is(err, mfa.ErrWrongTOTP) {
		t.Fatalf("code of two steps ago: %v, want ErrWrongTOTP", err)
	}
	if err := verify(now); err != nil {
		t.Fatalf("code of the current step: %v", err)
	}
	if err := verify(now); !errors.Is(err, mfa.ErrTOTPReplayed) {
		t.Fatalf("the same code again: %v, want ErrTOTPReplayed", err)
	}
	if err := verify(now.Add(totpStep)); err != nil {
		t.Fatalf("code of the next step: %v", err)
	}
	f.clock.Advance(totpStep)
	if err := verify(f.clock.Now().Add(-totpStep)); !errors.Is(err, mfa.ErrTOTPReplayed) {
		t.Fatalf("a step older than the last used: %v, want ErrTOTPReplayed", err)
	}
	if n := f.auditCount(t, mfa.EventChallengePassed); n != 3 {
		t.Fatalf("%d passes audited, want 3", n)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 0 {
		t.Fatalf("%d failures counted after the last success, want 0: replays count nothing", n)
	}
}

func TestTOTPWrongCodesLockLikeSMSCodes(t *testing.T) {
	f := newTOTPFixture(t)
	secret := f.enrollTOTP(t, f.user.ID)
	f.clock.Advance(time.Minute)
	for range 3 {
		if err := f.svc.VerifyTOTP(ctx, f.user.ID, wrongAppCode(t, secret, f.clock.Now())); !errors.Is(err, mfa.ErrWrongTOTP) {
			t.Fatalf("wrong code: %v, want ErrWrongTOTP", err)
		}
	}
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 0 {
		t.Fatalf("%d failures after a success, want 0", n)
	}

	f.clock.Advance(time.Minute)
	for i := 1; i <= 10; i++ {
		err := f.svc.VerifyTOTP(ctx, f.user.ID, wrongAppCode(t, secret, f.clock.Now()))
		if i < 10 && !errors.Is(err, mfa.ErrWrongTOTP) {
			t.Fatalf("wrong code %d: %v, want ErrWrongTOTP", i, err)
		}
		if i == 10 && !errors.Is(err, mfa.ErrMFALocked) {
			t.Fatalf("wrong code 10: %v, want ErrMFALocked", err)
		}
	}
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, f.clock.Now())); !errors.Is(err, mfa.ErrMFALocked) {
		t.Fatalf("right code while locked: %v, want ErrMFALocked", err)
	}
	if n := f.failures(t, f.user.ID).Consecutive; n != 10 {
		t.Fatalf("%d failures, want 10: a refused try counts nothing", n)
	}
	f.clock.Advance(15 * time.Minute)
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, f.clock.Now())); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
}

func TestTOTPSecretIsStoredOnlySealed(t *testing.T) {
	f := newTOTPFixture(t)
	setup := f.beginTOTP(t, f.user.ID)
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret)
	if err != nil {
		t.Fatal(err)
	}
	check := func(table string) {
		t.Helper()
		var sealed []byte
		var row string
		err := f.st.Pool().QueryRow(ctx, `select sealed_secret, t::text from `+table+` t where user_id = $1`, f.user.ID).Scan(&sealed, &row)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{[]byte(setup.Secret), []byte(strings.ToLower(setup.Secret)), raw} {
			if bytes.Contains(sealed, b) || strings.Contains(strings.ToUpper(row), strings.ToUpper(string(b))) {
				t.Fatalf("%s row %s holds the secret", table, row)
			}
		}
	}
	check("mfa_totp_pending")
	if err := f.svc.ConfirmTOTP(ctx, f.user.ID, "setup", appCode(t, setup.Secret, f.clock.Now()), false); err != nil {
		t.Fatal(err)
	}
	check("mfa_totp")

	// The sealed secret is bound to its user: copied to another, it does not open.
	other := f.newUser(t)
	_, err = f.st.Pool().Exec(ctx, `insert into mfa_totp (user_id, sealed_secret, activated_at)
		select $2, sealed_secret, activated_at from mfa_totp where user_id = $1`, f.user.ID, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.VerifyTOTP(ctx, other.ID, appCode(t, setup.Secret, f.clock.Now())); !errors.Is(err, mfa.ErrSealedTOTP) {
		t.Fatalf("verify with a copied secret: %v, want ErrSealedTOTP", err)
	}
}

func TestConcurrentTOTPVerificationsPassOnce(t *testing.T) {
	f := newTOTPFixture(t)
	secret := f.enrollTOTP(t, f.user.ID)
	f.clock.Advance(time.Minute)
	code := appCode(t, secret, f.clock.Now())
	var wg sync.WaitGroup
	var passed, replayed atomic.Int32
	for range 10 {
		wg.Go(func() {
			err := f.svc.VerifyTOTP(ctx, f.user.ID, code)
			switch {
			case err == nil:
				passed.Add(1)
			case errors.Is(err, mfa.ErrTOTPReplayed):
				replayed.Add(1)
			default:
				t.Errorf("verify: %v", err)
			}
		})
	}
	wg.Wait()
	if passed.Load() != 1 || replayed.Load() != 9 {
		t.Fatalf("%d passed, %d replayed; want 1 and 9", passed.Load(), replayed.Load())
	}
}

func TestRemoveTOTP(t *testing.T) {
	f := newTOTPFixture(t)
	secret := f.enrollTOTP(t, f.user.ID)
	other := f.newUser(t)
	f.enrollTOTP(t, other.ID)
	if err := f.svc.RemoveTOTP(ctx, f.user.ID); err != nil {
		t.Fatal(err)
	}
	if f.hasTOTP(t, f.user.ID) || !f.hasTOTP(t, other.ID) {
		t.Fatal("remove did not remove exactly the user's authenticator")
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.VerifyTOTP(ctx, f.user.ID, appCode(t, secret, f.clock.Now())); !errors.Is(err, mfa.ErrTOTPNotEnrolled) {
		t.Fatalf("verify after removal: %v, want ErrTOTPNotEnrolled", err)
	}
	if err := f.svc.RemoveTOTP(ctx, f.user.ID); !errors.Is(err, mfa.ErrTOTPNotEnrolled) {
		t.Fatalf("second removal: %v, want ErrTOTPNotEnrolled", err)
	}
	if n := f.auditCount(t, mfa.EventTOTPRemoved); n != 1 {
		t.Fatalf("removal audited %d times, want 1", n)
	}
}

func TestTOTPIsRefusedWhenNotConfigured(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	if _, err := f.svc.BeginTOTP(ctx, f.user.ID, "setup", "ann@example.com", "Gatehouse"); !errors.Is(err, mfa.ErrInvalidRequest) {
		t.Fatalf("begin without a TOTP vault: %v, want ErrInvalidRequest", err)
	}
	if ok, err := f.svc.HasTOTP(ctx, f.user.ID); ok || err != nil {
		t.Fatalf("has totp = %v, %v; want false", ok, err)
	}
}
