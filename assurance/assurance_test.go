package assurance_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// The rules on their own, with the facts given directly; the server's tests
// hold every route to them over HTTP on a real database.

type factor struct {
	kind    assurance.Kind
	enabled bool
	holders []string
}

func (f *factor) Kind() assurance.Kind                  { return f.kind }
func (f *factor) Enabled(context.Context) (bool, error) { return f.enabled, nil }
func (f *factor) Enrolled(_ context.Context, u string) (bool, error) {
	return slices.Contains(f.holders, u), nil
}

type locks map[string]error

func (l locks) CheckLock(_ context.Context, u string) error { return l[u] }

type policy mfa.Policy

func (p policy) Policy(context.Context) (mfa.Policy, error) { return mfa.Policy(p), nil }

type assessor struct{ challenge bool }

func (a assessor) Assess(context.Context, risk.Attempt) risk.Assessment {
	return risk.Assessment{Challenge: a.challenge}
}

type recorder struct{ assessed, noted int }

func (r *recorder) RecordAssessment(context.Context, assurance.Request, risk.Assessment) error {
	r.assessed++
	return nil
}
func (r *recorder) NoteLogin(context.Context, assurance.Request) error { r.noted++; return nil }

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// world: "phone" holds a phone and recovery codes, "app" an authenticator
// app, "both" the two, "none" nothing, "locked" a phone and a lock,
// "leftover" recovery codes only.
type world struct {
	policy        mfa.Policy
	phoneOff      bool
	passkeysOff   bool
	riskChallenge bool
}

func (w world) authority(rec *recorder) *assurance.Authority {
	return assurance.New(assurance.Deps{
		Factors: []assurance.Factor{
			&factor{kind: assurance.KindPasskey, enabled: !w.passkeysOff, holders: []string{"passkey", "phone+passkey"}},
			&factor{kind: assurance.KindApp, enabled: true, holders: []string{"app", "both"}},
			&factor{kind: assurance.KindPhone, enabled: !w.phoneOff, holders: []string{"phone", "locked", "phone-only", "both", "phone+passkey"}},
			&factor{kind: assurance.KindRecovery, enabled: true, holders: []string{"phone", "locked", "leftover"}},
		},
		Enrollment: []assurance.Kind{assurance.KindPhone, assurance.KindApp},
		Locks:      locks{"locked": &mfa.LockedError{Until: now.Add(time.Minute)}},
		Policies:   policy(w.policy),
		Assessor:   assessor{w.riskChallenge},
		Recorder:   rec,
		Now:        func() time.Time { return now },
	})
}

var (
	passwordOnly = assurance.Session{Methods: []string{"pwd"}}
	recentMFA    = assurance.Session{Methods: []string{"pwd", "sms", "mfa"}, SecondFactorAt: now.Add(-time.Minute)}
	oldMFA       = assurance.Session{Methods: []string{"pwd", "sms", "mfa"}, SecondFactorAt: now.Add(-time.Hour)}
	passkeyMFA   = assurance.Session{Methods: []string{"swk", "mfa"}, SecondFactorAt: now.Add(-time.Hour)}
)

func TestTheRules(t *testing.T) {
	signIn := assurance.Purpose{Action: assurance.SignIn}
	phone, app, recovery, passkey := assurance.KindPhone, assurance.KindApp, assurance.KindRecovery, assurance.KindPasskey
	phishingResistant := assurance.Purpose{Action: assurance.SignIn, PhishingResistant: true}
	adminPhishingResistant := assurance.Purpose{Action: assurance.AdminConsole, PhishingResistant: true}
	cases := []struct {
		name       string
		world      world
		user       string
		admin      bool
		session    assurance.Session
		purpose    assurance.Purpose
		remembered bool
		step       assurance.Step
		factors    []assurance.Kind
	}{
		{"never lets a password-only session sign in", world{policy: mfa.PolicyNever}, "phone", false, passwordOnly, signIn, false, assurance.Done, nil},
		{"always challenges the phone, recovery codes beside it", world{policy: mfa.PolicyAlways}, "phone", false, passwordOnly, signIn, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"the app is offered before the phone", world{policy: mfa.PolicyAlways}, "both", false, passwordOnly, signIn, false, assurance.Challenge, []assurance.Kind{app, phone}},
		{"always enrolls a user with no factor, phone first", world{policy: mfa.PolicyAlways}, "none", false, passwordOnly, signIn, false, assurance.Enroll, []assurance.Kind{phone, app, passkey}},
		{"a passkey is offered before every other factor", world{policy: mfa.PolicyAlways}, "phone+passkey", false, passwordOnly, signIn, false, assurance.Challenge, []assurance.Kind{passkey, phone}},
		{"a session that signed in with a passkey is done", world{policy: mfa.PolicyAlways}, "passkey", false, passkeyMFA, signIn, false, assurance.Done, nil},
		{"phishing-resistant: a passkey holder must pass the passkey", world{policy: mfa.PolicyNever}, "phone+passkey", false, passwordOnly, phishingResistant, true, assurance.Challenge, []assurance.Kind{passkey}},
		{"phishing-resistant: a recent SMS does not satisfy it", world{policy: mfa.PolicyNever}, "phone+passkey", false, recentMFA, phishingResistant, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"phishing-resistant: a passkey session, however old, satisfies it", world{policy: mfa.PolicyNever}, "passkey", false, passkeyMFA, phishingResistant, false, assurance.Done, nil},
		{"phishing-resistant: a phone holder passes the phone first, to add a passkey", world{policy: mfa.PolicyNever}, "phone", false, passwordOnly, phishingResistant, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"phishing-resistant: then sets up a passkey", world{policy: mfa.PolicyNever}, "phone", false, recentMFA, phishingResistant, false, assurance.Enroll, []assurance.Kind{passkey}},
		{"phishing-resistant: a user with no factor sets up a passkey", world{policy: mfa.PolicyNever}, "none", false, passwordOnly, phishingResistant, false, assurance.Enroll, []assurance.Kind{passkey}},
		{"phishing-resistant: refused while passkeys are off", world{policy: mfa.PolicyAlways, passkeysOff: true}, "phone", false, recentMFA, phishingResistant, false, assurance.Refused, nil},
		{"phishing-resistant console: an admin's SMS is not enough", world{policy: mfa.PolicyAlways}, "phone+passkey", true, recentMFA, adminPhishingResistant, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"phishing-resistant console: still refuses non-admins", world{policy: mfa.PolicyAlways}, "passkey", false, passkeyMFA, adminPhishingResistant, false, assurance.Refused, nil},
		{"a passkey holder changes factors only after a passkey, not a recent SMS", world{policy: mfa.PolicyNever}, "phone+passkey", false, recentMFA, assurance.Purpose{Action: assurance.EnrollFactor, Factor: passkey}, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"a passkey holder removes factors only after a passkey", world{policy: mfa.PolicyNever}, "phone+passkey", false, recentMFA, assurance.Purpose{Action: assurance.ChangeFactors}, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"a recent passkey may change factors", world{policy: mfa.PolicyNever}, "phone+passkey", false, assurance.Session{Methods: []string{"pwd", "hwk", "mfa"}, SecondFactorAt: now.Add(-time.Minute), PasskeyAt: now.Add(-time.Minute)}, assurance.Purpose{Action: assurance.ChangeFactors}, false, assurance.Done, nil},
		{"an old passkey and a recent SMS change nothing", world{policy: mfa.PolicyNever}, "phone+passkey", false, assurance.Session{Methods: []string{"pwd", "hwk", "sms", "mfa"}, SecondFactorAt: now.Add(-time.Minute), PasskeyAt: now.Add(-time.Hour)}, assurance.Purpose{Action: assurance.ChangeFactors}, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"a passkey holder's reset asks for the passkey only", world{policy: mfa.PolicyNever}, "phone+passkey", false, assurance.Session{}, assurance.Purpose{Action: assurance.ResetPassword}, false, assurance.Challenge, []assurance.Kind{passkey}},
		{"passkeys off: a passkey-only user is refused, not waved through", world{policy: mfa.PolicyAlways, passkeysOff: true}, "passkey", false, passwordOnly, signIn, false, assurance.Refused, nil},
		{"phone off: enrollment offers no phone", world{policy: mfa.PolicyAlways, phoneOff: true}, "none", false, passwordOnly, signIn, false, assurance.Enroll, []assurance.Kind{app, passkey}},
		{"phone off: a phone-only user without codes is refused, not waved through", world{policy: mfa.PolicyAlways, phoneOff: true}, "phone-only", false, passwordOnly, signIn, false, assurance.Refused, nil},
		{"phone off: recovery codes still pass", world{policy: mfa.PolicyAlways, phoneOff: true}, "phone", false, passwordOnly, signIn, false, assurance.Challenge, []assurance.Kind{recovery}},
		{"codes left after the last factor prove nothing", world{policy: mfa.PolicyAlways}, "leftover", false, passwordOnly, signIn, false, assurance.Enroll, []assurance.Kind{phone, app, passkey}},
		{"a remembered browser skips the challenge", world{policy: mfa.PolicyAlways}, "phone", false, passwordOnly, signIn, true, assurance.Done, nil},
		{"a step-up ignores a remembered browser", world{policy: mfa.PolicyNever}, "phone", false, passwordOnly, assurance.Purpose{Action: assurance.SignIn, StepUp: true}, true, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"an application's always overrides the tenant's never", world{policy: mfa.PolicyNever}, "app", false, passwordOnly, assurance.Purpose{Action: assurance.SignIn, AppPolicy: mfa.PolicyAlways}, false, assurance.Challenge, []assurance.Kind{app}},
		{"an application's never overrides the tenant's always", world{policy: mfa.PolicyAlways}, "app", false, passwordOnly, assurance.Purpose{Action: assurance.SignIn, AppPolicy: mfa.PolicyNever}, false, assurance.Done, nil},
		{"adaptive allows what the signals allow", world{policy: mfa.PolicyAdaptive}, "phone", false, passwordOnly, signIn, false, assurance.Done, nil},
		{"adaptive challenges what the signals doubt", world{policy: mfa.PolicyAdaptive, riskChallenge: true}, "phone", false, passwordOnly, signIn, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"the lock holds under never", world{policy: mfa.PolicyNever}, "locked", false, passwordOnly, signIn, false, assurance.Locked, nil},
		{"the lock holds for a session past its second factor", world{policy: mfa.PolicyNever}, "locked", false, recentMFA, signIn, false, assurance.Locked, nil},
		{"first enrollment is open to a user with no factor", world{policy: mfa.PolicyNever}, "none", false, passwordOnly, assurance.Purpose{Action: assurance.EnrollFactor, Factor: phone}, false, assurance.Done, nil},
		{"a password alone cannot add a factor beside one", world{policy: mfa.PolicyNever}, "phone", false, passwordOnly, assurance.Purpose{Action: assurance.EnrollFactor, Factor: app}, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"a recent second factor may add a factor", world{policy: mfa.PolicyNever}, "phone", false, recentMFA, assurance.Purpose{Action: assurance.EnrollFactor, Factor: app}, false, assurance.Done, nil},
		{"an old second factor must be proved again to replace one", world{policy: mfa.PolicyNever}, "phone", false, oldMFA, assurance.Purpose{Action: assurance.EnrollFactor, Factor: phone}, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"no phone enrollment while the phone is off", world{policy: mfa.PolicyNever, phoneOff: true}, "none", false, passwordOnly, assurance.Purpose{Action: assurance.EnrollFactor, Factor: phone}, false, assurance.Refused, nil},
		{"removing a factor needs a recent second factor", world{policy: mfa.PolicyNever}, "app", false, oldMFA, assurance.Purpose{Action: assurance.ChangeFactors}, false, assurance.Challenge, []assurance.Kind{app}},
		{"a password change needs a recent second factor", world{policy: mfa.PolicyNever}, "phone", false, passwordOnly, assurance.Purpose{Action: assurance.ChangePassword}, false, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"a user with no factor changes the password with it", world{policy: mfa.PolicyNever}, "none", false, passwordOnly, assurance.Purpose{Action: assurance.ChangePassword}, false, assurance.Done, nil},
		{"a reset asks for the app before the phone", world{policy: mfa.PolicyNever}, "app", false, assurance.Session{}, assurance.Purpose{Action: assurance.ResetPassword}, false, assurance.Challenge, []assurance.Kind{app}},
		{"a reset that passed its factor goes on", world{policy: mfa.PolicyNever}, "phone", false, assurance.Session{}, assurance.Purpose{Action: assurance.ResetPassword, ResetProved: true}, false, assurance.Done, nil},
		{"the console refuses a user who is not an admin", world{policy: mfa.PolicyNever}, "phone", false, recentMFA, assurance.Purpose{Action: assurance.AdminConsole}, false, assurance.Refused, nil},
		{"the console asks an admin for a second factor under never", world{policy: mfa.PolicyNever}, "phone", true, passwordOnly, assurance.Purpose{Action: assurance.AdminConsole}, true, assurance.Challenge, []assurance.Kind{phone, recovery}},
		{"a factor's screen opens for its holder", world{policy: mfa.PolicyAlways}, "phone", false, passwordOnly, assurance.Purpose{Action: assurance.ProveFactor, Screen: []assurance.Kind{phone}}, false, assurance.Done, []assurance.Kind{phone}},
		{"a factor's screen sends others to their own factor", world{policy: mfa.PolicyAlways}, "app", false, passwordOnly, assurance.Purpose{Action: assurance.ProveFactor, Screen: []assurance.Kind{phone}}, false, assurance.Challenge, []assurance.Kind{app}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			d, err := tc.world.authority(rec).Decide(context.Background(), assurance.Request{
				User: assurance.User{ID: tc.user, Admin: tc.admin}, Session: tc.session, Purpose: tc.purpose,
				RememberedBrowser: func() (bool, error) { return tc.remembered, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			if d.Step != tc.step || (tc.factors != nil && !slices.Equal(d.Factors, tc.factors)) {
				t.Fatalf("got %s %v, want %s %v", d.Step, d.Factors, tc.step, tc.factors)
			}
		})
	}
}

func TestAnApplicationsNeverLeavesNothingBehind(t *testing.T) {
	rec := &recorder{}
	a := world{policy: mfa.PolicyAdaptive}.authority(rec)
	d, err := a.Decide(context.Background(), assurance.Request{User: assurance.User{ID: "phone"}, Session: passwordOnly,
		Purpose: assurance.Purpose{Action: assurance.SignIn, AppPolicy: mfa.PolicyNever}})
	if err != nil || d.Step != assurance.Done {
		t.Fatalf("never app: %s, %v", d.Step, err)
	}
	if rec.assessed != 0 || rec.noted != 0 {
		t.Fatalf("an application's never assessed %d and noted %d logins, want none", rec.assessed, rec.noted)
	}
	if _, err := a.Decide(context.Background(), assurance.Request{User: assurance.User{ID: "phone"}, Session: passwordOnly,
		Purpose: assurance.Purpose{Action: assurance.SignIn}}); err != nil || rec.assessed != 1 || rec.noted != 1 {
		t.Fatalf("the tenant's adaptive allow: assessed %d noted %d, %v; want one of each", rec.assessed, rec.noted, err)
	}
}

func TestABlockedUserIsRefusedEverything(t *testing.T) {
	a := world{policy: mfa.PolicyNever}.authority(&recorder{})
	for act := assurance.SignIn; act <= assurance.AdminConsole; act++ {
		d, err := a.Decide(context.Background(), assurance.Request{User: assurance.User{ID: "phone", Blocked: true, Admin: true},
			Session: recentMFA, Purpose: assurance.Purpose{Action: act, Factor: assurance.KindApp}})
		if err != nil || d.Step != assurance.Refused {
			t.Errorf("%s: %s, %v; want refused", act, d.Step, err)
		}
	}
}

type countingFactor struct {
	factor
	reads int
}

func (f *countingFactor) Enrolled(ctx context.Context, u string) (bool, error) {
	f.reads++
	return f.factor.Enrolled(ctx, u)
}

func TestSignInsThePolicyOrSessionSettlesReadNoFactors(t *testing.T) {
	app := &countingFactor{factor: factor{kind: assurance.KindApp, enabled: true, holders: []string{"app"}}}
	remembered := 0
	a := assurance.New(assurance.Deps{Factors: []assurance.Factor{app}, Policies: policy(mfa.PolicyNever), Locks: locks{}})
	for _, tc := range []struct {
		name    string
		session assurance.Session
		purpose assurance.Purpose
	}{
		{"never, password only", passwordOnly, assurance.Purpose{Action: assurance.SignIn}},
		{"never, the account page", passwordOnly, assurance.Purpose{Action: assurance.UseAccount}},
		{"past the second factor", recentMFA, assurance.Purpose{Action: assurance.SignIn, AppPolicy: mfa.PolicyAlways}},
	} {
		d, err := a.Decide(context.Background(), assurance.Request{User: assurance.User{ID: "app"}, Session: tc.session,
			Purpose: tc.purpose, RememberedBrowser: func() (bool, error) { remembered++; return false, nil }})
		if err != nil || d.Step != assurance.Done {
			t.Fatalf("%s: %s, %v", tc.name, d.Step, err)
		}
	}
	if app.reads != 0 || remembered != 0 {
		t.Fatalf("settled sign-ins read the factors %d times and the remembered browser %d times, want none", app.reads, remembered)
	}
	if _, err := a.Decide(context.Background(), assurance.Request{User: assurance.User{ID: "app"}, Session: passwordOnly,
		Purpose: assurance.Purpose{Action: assurance.SignIn, StepUp: true}}); err != nil || app.reads != 1 {
		t.Fatalf("a step-up read the factors %d times, %v; want once", app.reads, err)
	}
}
