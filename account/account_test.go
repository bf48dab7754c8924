package account_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

type fixture struct {
	svc   *account.Service
	st    *store.Store
	clock *accounttest.Clock
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	st := storetest.NewStore(t)
	c := accounttest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return fixture{svc: accounttest.NewService(st, c, accounttest.CheapParams), st: st, clock: c}
}

var (
	ctx       = context.Background()
	home      = account.Meta{IP: netip.MustParseAddr("198.51.100.7"), UserAgent: "test"}
	elsewhere = account.Meta{IP: netip.MustParseAddr("203.0.113.9"), UserAgent: "test"}
)

const goodPassword = "violet tractor meadow"

func (f fixture) signUp(t *testing.T, email string) account.User {
	t.Helper()
	u, err := f.svc.SignUp(ctx, email, "Ann", goodPassword, home)
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return u
}

func (f fixture) auditCount(t *testing.T, event string) int {
	t.Helper()
	var n int
	if err := f.st.Pool().QueryRow(ctx, `select count(*) from audit_log where event = $1`, event).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignUpThenLogIn(t *testing.T) {
	f := newFixture(t)
	created := f.signUp(t, " Ann@Example.com ")
	if created.Email != "Ann@Example.com" {
		t.Fatalf("email stored as %q, want it trimmed", created.Email)
	}
	u, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home)
	if err != nil || u.ID != created.ID {
		t.Fatalf("login = %v, %v; want the new user", u.ID, err)
	}
	if f.auditCount(t, account.EventSignup) != 1 || f.auditCount(t, account.EventLoginSucceeded) != 1 {
		t.Fatal("signup and login were not both audited")
	}
}

func TestSignUpRefusals(t *testing.T) {
	f := newFixture(t)
	f.signUp(t, "taken@example.com")
	var weak password.Weakness
	tests := []struct {
		name, email, userName, password string
		check                           func(error) bool
	}{
		{"malformed email", "not-an-email", "", goodPassword, func(err error) bool { return errors.Is(err, account.ErrInvalidEmail) }},
		{"display-name email", "Ann <ann@example.com>", "", goodPassword, func(err error) bool { return errors.Is(err, account.ErrInvalidEmail) }},
		{"control characters in name", "ann@example.com", "An\x00n", goodPassword, func(err error) bool { return errors.Is(err, account.ErrInvalidName) }},
		{"short password", "ann@example.com", "", "short", func(err error) bool { return errors.As(err, &weak) && weak.Reason == password.ReasonTooShort }},
		{"common password", "ann@example.com", "", "password1", func(err error) bool { return errors.As(err, &weak) && weak.Reason == password.ReasonCommon }},
		{"password is the email", "ann@example.com", "", "ann@example.com", func(err error) bool { return errors.As(err, &weak) }},
		{"email taken in another case", "TAKEN@example.com", "", goodPassword, func(err error) bool { return errors.Is(err, account.ErrEmailTaken) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SignUp(ctx, tt.email, tt.userName, tt.password, home)
			if !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUnknownEmailAndWrongPasswordLookTheSame(t *testing.T) {
	f := newFixture(t)
	f.signUp(t, "ann@example.com")
	_, errUnknown := f.svc.Login(ctx, "nobody@example.com", goodPassword, home)
	_, errWrong := f.svc.Login(ctx, "ann@example.com", "wrong password!", home)
	if !errors.Is(errUnknown, account.ErrInvalidCredentials) || errUnknown != errWrong {
		t.Fatalf("unknown email: %v; wrong password: %v; want the same ErrInvalidCredentials", errUnknown, errWrong)
	}
	if n := f.auditCount(t, account.EventLoginFailed); n != 2 {
		t.Fatalf("failed logins audited = %d, want 2", n)
	}
}

func TestTenFailuresLockThePairForFifteenMinutes(t *testing.T) {
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			f := newFixture(t)
			f.signUp(t, "ann@example.com")
			for i := range 10 {
				if _, err := f.svc.Login(ctx, email, "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
					t.Fatalf("failure %d: err = %v", i+1, err)
				}
				f.clock.Advance(time.Second)
			}
			_, err := f.svc.Login(ctx, email, goodPassword, home)
			var locked *account.LockedError
			if !errors.As(err, &locked) {
				t.Fatalf("11th attempt: err = %v, want *LockedError", err)
			}
			if want := f.clock.Now().Add(-time.Second).Add(15 * time.Minute); !locked.Until.Equal(want) {
				t.Fatalf("locked until %v, want %v", locked.Until, want)
			}
			if f.auditCount(t, account.EventLoginLocked) != 1 {
				t.Fatal("lockout was not audited")
			}
			if email == "ann@example.com" {
				if _, err := f.svc.Login(ctx, email, goodPassword, elsewhere); err != nil {
					t.Fatalf("same account from another address: %v, want success", err)
				}
			}
			f.clock.Advance(15 * time.Minute)
			_, err = f.svc.Login(ctx, email, goodPassword, home)
			if email == "ann@example.com" && err != nil {
				t.Fatalf("after the window: %v, want success", err)
			}
			if email != "ann@example.com" && !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("unknown email after the window: %v, want ErrInvalidCredentials", err)
			}
		})
	}
}

func TestSuccessResetsTheConsecutiveCount(t *testing.T) {
	f := newFixture(t)
	f.signUp(t, "ann@example.com")
	for range 9 {
		if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("a wrong password: %v, want ErrInvalidCredentials", err)
		}
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
		t.Fatal(err)
	}
	for range 9 {
		if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("a wrong password: %v, want ErrInvalidCredentials", err)
		}
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
		t.Fatalf("9 failures after a success: %v, want success (not locked)", err)
	}
}

func TestHundredFailuresFromOneAddressThrottleIt(t *testing.T) {
	f := newFixture(t)
	f.signUp(t, "ann@example.com")
	// Spread over many account names so no pair locks: this is the address rule.
	for i := range 100 {
		if _, err := f.svc.Login(ctx, "user"+strings.Repeat("x", i%20)+string(rune('a'+i/20))+"@example.com", "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("a wrong password: %v, want ErrInvalidCredentials", err)
		}
	}
	_, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home)
	var throttled *account.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("after 100 failures: err = %v, want *ThrottledError", err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, elsewhere); err != nil {
		t.Fatalf("another address: %v, want success", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
		t.Fatalf("a minute later: %v, want one attempt allowed", err)
	}
	f.clock.Advance(24 * time.Hour)
	for range 3 {
		if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("a day later: %v, want ordinary failures, not throttling", err)
		}
	}
}

func TestBlockedUserIsRefusedOnlyWithTheRightPassword(t *testing.T) {
	f := newFixture(t)
	u := f.signUp(t, "ann@example.com")
	if err := f.st.SetBlocked(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", "wrong password!", home); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); !errors.Is(err, account.ErrBlocked) {
		t.Fatalf("right password: %v, want ErrBlocked", err)
	}
}

func TestBcryptHashFromAnImportIsUpgradedOnLogin(t *testing.T) {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			f := newFixture(t)
			h, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			imported := prefix + string(h[4:])
			u, err := f.st.CreateUser(ctx, account.NewUser{Email: "ann@example.com", PasswordHash: imported, CreatedAt: f.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
				t.Fatalf("login with imported hash: %v", err)
			}
			after, err := f.st.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash after login = %q, want argon2id", after.PasswordHash)
			}
			if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); err != nil {
				t.Fatalf("login with upgraded hash: %v", err)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	f := newFixture(t)
	u := f.signUp(t, "ann@example.com")
	token, _, err := f.svc.StartSession(ctx, u, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	sess, got, err := f.svc.Resume(ctx, token)
	if err != nil || got.ID != u.ID || sess.AMR[0] != "pwd" {
		t.Fatalf("resume = %+v, %v", sess, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	var stored []byte
	if err := f.st.Pool().QueryRow(ctx, `select id_hash from sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 32 || !bytes.Equal(stored, sum[:]) {
		t.Fatalf("token of %d bytes stored as %x, want 32 random bytes stored as their SHA-256", len(raw), stored)
	}
	for _, bad := range []string{"", "garbage", strings.Repeat("A", 43), token + "x"} {
		if _, _, err := f.svc.Resume(ctx, bad); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("resume(%q) = %v, want ErrNoSession", bad, err)
		}
	}
	if err := f.svc.EndSession(ctx, token, home); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Resume(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("after logout: %v, want ErrNoSession", err)
	}
}

func TestSessionEndsWhenIdleOrTooOldOrUserBlocked(t *testing.T) {
	limits := account.DefaultLimits()
	tests := []struct {
		name string
		act  func(t *testing.T, f fixture, u account.User, token string)
	}{
		{"idle past the limit", func(_ *testing.T, f fixture, _ account.User, _ string) { f.clock.Advance(limits.SessionIdle) }},
		{"past the absolute limit despite use", func(t *testing.T, f fixture, _ account.User, token string) {
			for elapsed := time.Duration(0); elapsed < limits.SessionMaxAge; elapsed += limits.SessionIdle / 2 {
				f.clock.Advance(limits.SessionIdle / 2)
				if _, _, err := f.svc.Resume(ctx, token); err != nil && !errors.Is(err, account.ErrNoSession) {
					t.Fatal(err)
				}
			}
		}},
		{"user blocked", func(t *testing.T, f fixture, u account.User, _ string) {
			if err := f.st.SetBlocked(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.signUp(t, "ann@example.com")
			token, _, err := f.svc.StartSession(ctx, u, []string{"pwd"}, home)
			if err != nil {
				t.Fatal(err)
			}
			tt.act(t, f, u, token)
			if _, _, err := f.svc.Resume(ctx, token); !errors.Is(err, account.ErrNoSession) {
				t.Fatalf("err = %v, want ErrNoSession", err)
			}
		})
	}
}

func TestUseKeepsASessionAlivePastTheIdleLimit(t *testing.T) {
	f := newFixture(t)
	u := f.signUp(t, "ann@example.com")
	token, _, err := f.svc.StartSession(ctx, u, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	idle := account.DefaultLimits().SessionIdle
	for range 3 {
		f.clock.Advance(idle - time.Minute)
		if _, _, err := f.svc.Resume(ctx, token); err != nil {
			t.Fatalf("used session ended: %v", err)
		}
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	f := newFixture(t)
	u := f.signUp(t, "ann@example.com")
	current, sess, err := f.svc.StartSession(ctx, u, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := f.svc.StartSession(ctx, u, []string{"pwd"}, elsewhere)
	if err != nil {
		t.Fatal(err)
	}

	if err := f.svc.ChangePassword(ctx, sess, "wrong password!", "a brand new phrase", home); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("wrong current password: %v, want ErrInvalidCredentials", err)
	}
	var weak password.Weakness
	if err := f.svc.ChangePassword(ctx, sess, goodPassword, "password1", home); !errors.As(err, &weak) {
		t.Fatalf("common new password: %v, want a Weakness", err)
	}
	if err := f.svc.ChangePassword(ctx, sess, goodPassword, "a brand new phrase", home); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Resume(ctx, current); err != nil {
		t.Fatalf("current session after change: %v, want kept", err)
	}
	if _, _, err := f.svc.Resume(ctx, other); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("other session after change: %v, want ended", err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", goodPassword, home); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("old password: %v, want refused", err)
	}
	if _, err := f.svc.Login(ctx, "ann@example.com", "a brand new phrase", home); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestCreateUserAppliesThePasswordRules(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateUser(ctx, "admin@example.com", "", "password", true, account.Meta{}); err == nil {
		t.Fatal("operator-created user with a common password was accepted")
	}
	u, err := f.svc.CreateUser(ctx, "admin@example.com", "Admin", goodPassword, true, account.Meta{})
	if err != nil || !u.Admin {
		t.Fatalf("create admin = %+v, %v", u, err)
	}
}

func TestPassingASecondFactorUpgradesAndRenewsTheSession(t *testing.T) {
	f := newFixture(t)
	u := f.signUp(t, "ann@example.com")
	old, sess, err := f.svc.StartSession(ctx, u, []string{"pwd"}, home)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := f.svc.PassSecondFactor(ctx, sess, "sms", "mfa", "pwd")
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := f.svc.Resume(ctx, token)
	if err != nil || strings.Join(got.AMR, ",") != "pwd,sms,mfa" || got.SecondFactorAt.IsZero() {
		t.Fatalf("after the second factor: amr %v, second factor at %v, %v; want pwd,sms,mfa and a time", got.AMR, got.SecondFactorAt, err)
	}
	if _, _, err := f.svc.Resume(ctx, old); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("the token from before the second factor still works: %v", err)
	}
	if _, _, err := f.svc.PassSecondFactor(ctx, sess, "sms", "mfa"); !errors.Is(err, account.ErrNoSession) {
		t.Fatalf("renewing a session that was already renewed: %v, want ErrNoSession", err)
	}
}
