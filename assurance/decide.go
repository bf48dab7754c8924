package assurance

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// Action is what the session wants to do.
type Action int

const (
	// SignIn answers an application's authorization request, under the
	// application's policy (else the tenant's) and its step-up request.
	SignIn Action = iota + 1
	// UseAccount opens the account pages, under the tenant's policy.
	UseAccount
	// ProveFactor opens the screen of one factor to pass it.
	ProveFactor
	// EnrollFactor sets up a factor: the first one, or another.
	EnrollFactor
	// ChangeFactors replaces or removes a factor or regenerates recovery codes.
	ChangeFactors
	// ChangePassword changes the password from a session.
	ChangePassword
	// ResetPassword sets a new password through a mailed link.
	ResetPassword
	// AdminConsole opens the admin console.
	AdminConsole
)

var actionNames = map[Action]string{SignIn: "sign_in", UseAccount: "use_account", ProveFactor: "prove_factor",
	EnrollFactor: "enroll_factor", ChangeFactors: "change_factors", ChangePassword: "change_password",
	ResetPassword: "reset_password", AdminConsole: "admin_console"}

func (a Action) String() string { return actionNames[a] }

// Purpose is the action with what it depends on.
type Purpose struct {
	Action Action
	// AppPolicy is the application's own policy for SignIn, "" to follow the
	// tenant's.
	AppPolicy mfa.Policy
	// StepUp is set when the application asked for multi-factor (acr_values).
	StepUp bool
	// Factor is the kind EnrollFactor sets up.
	Factor Kind
	// Screen is the kinds a ProveFactor screen takes.
	Screen []Kind
	// ResetProved is set for ResetPassword once the reset passed a second factor.
	ResetProved bool
	// PhishingResistant is set for SignIn and AdminConsole when only a
	// passkey will do.
	PhishingResistant bool
}

// User is who the session belongs to.
type User struct {
	ID      string
	Admin   bool
	Blocked bool
}

// Session is what the browser has proved so far. A reset has none.
type Session struct {
	Methods        []string  // RFC 8176 amr
	SecondFactorAt time.Time // when a second factor last passed in it
	PasskeyAt      time.Time // when a passkey last passed in it
	RiskDecision   string    // the adaptive policy's decision kept on it: "", "allow", "challenge"
}

// Request is one question to the authority.
type Request struct {
	User    User
	Session Session
	Purpose Purpose
	// Attempt describes the login for the adaptive signals (IP, device).
	Attempt risk.Attempt
	// RememberedBrowser reports whether the browser holds a live "remember
	// this browser" token of the user; nil means it holds none. It is asked
	// only where a policy would otherwise challenge.
	RememberedBrowser func() (bool, error)
	// Caller is the caller's own handle on the session and request, opaque
	// here and handed back to the Recorder with the request.
	Caller any
}

// Step is what the session must do next.
type Step int

const (
	Done      Step = iota // go on
	Enroll                // set up a first factor (Factors)
	Challenge             // pass one of Factors
	Locked                // the user's MFA is locked (Lock says until when)
	Refused               // never, from this session (Refusal says why)
)

var stepNames = []string{"done", "enroll", "challenge", "locked", "refused"}

func (s Step) String() string { return stepNames[s] }

// Refusal says why a request is refused.
type Refusal string

const (
	RefusedBlocked         Refusal = "blocked"
	RefusedNotAdmin        Refusal = "not_admin"
	RefusedFactorDisabled  Refusal = "factor_disabled"   // the admin turned this kind off
	RefusedNoUsableFactor  Refusal = "no_usable_factor"  // the user's factors are all turned off
	RefusedNoFactorOffered Refusal = "no_factor_offered" // nothing can be enrolled
)

// Decision is the authority's answer.
type Decision struct {
	Step Step
	// Factors: for Enroll the kinds the user may set up, for Challenge the
	// kinds that pass it; the first is the one to offer first.
	Factors []Kind
	// Lock is *mfa.LockedError or mfa.ErrAccountLocked when Step is Locked.
	Lock    error
	Refusal Refusal
	// Reauthenticate is set when a session that passed a second factor must
	// pass one again because it was not recent.
	Reauthenticate bool
	// Assessment is the adaptive assessment made for this request, if any.
	Assessment *risk.Assessment
	// Usable is every kind the user can pass now, in offering order.
	Usable []Kind
	// FirstEnrollment is set when EnrollFactor is admitted because the user
	// has no factor: the enrollment must then still find none when it
	// completes, or a racing session could add a second one unproved.
	FirstEnrollment bool
}

// Decide answers what the session must do before it may go on with the
// purpose.
func (a *Authority) Decide(ctx context.Context, r Request) (Decision, error) {
	if r.User.Blocked {
		return Decision{Step: Refused, Refusal: RefusedBlocked}, nil
	}
	withFactors := !settledByTheSession(r)
	if withFactors && asksPolicy(r) {
		// Under never the policy settles a sign-in without the factors: the
		// hot path of every page a password-only session opens.
		policy, err := a.policy(ctx, r.Purpose.AppPolicy)
		if err != nil {
			return Decision{}, err
		}
		withFactors = policy != mfa.PolicyNever
	}
	f, err := a.gather(ctx, r.User.ID, withFactors)
	if err != nil {
		return Decision{}, err
	}
	d, err := a.rules(ctx, r, f)
	d.Usable = f.usable
	return d, err
}

// rules are the assurance rules applied to the gathered facts.
func (a *Authority) rules(ctx context.Context, r Request, f facts) (Decision, error) {
	if f.lock != nil {
		return Decision{Step: Locked, Lock: f.lock}, nil
	}
	p := r.Purpose
	if p.PhishingResistant && (p.Action == SignIn || p.Action == AdminConsole) {
		if p.Action == AdminConsole && !r.User.Admin {
			return Decision{Step: Refused, Refusal: RefusedNotAdmin}, nil
		}
		if !PassedPhishingResistant(r.Session.Methods) {
			return needPasskey(r, f), nil
		}
		return Decision{Step: Done}, nil
	}
	switch p.Action {
	case SignIn:
		return a.signIn(ctx, r, f, p.AppPolicy, p.StepUp)
	case UseAccount:
		return a.signIn(ctx, r, f, "", false)
	case ProveFactor:
		// The screen opens for the kinds it takes that the user can use now,
		// and Factors tells it which; anyone else goes where needFactor says,
		// which is never this screen.
		var open []Kind
		for _, k := range p.Screen {
			if slices.Contains(f.usable, k) {
				open = append(open, k)
			}
		}
		if len(open) > 0 {
			return Decision{Step: Done, Factors: open}, nil
		}
		return needFactor(f), nil
	case EnrollFactor:
		if !slices.Contains(f.canEnrol, p.Factor) {
			return Decision{Step: Refused, Refusal: RefusedFactorDisabled}, nil
		}
		if !f.hasFactor() {
			return Decision{Step: Done, FirstEnrollment: true}, nil
		}
		return a.recent(r, f), nil
	case ChangeFactors:
		if !f.hasFactor() {
			return Decision{Step: Done}, nil
		}
		return a.recent(r, f), nil
	case ChangePassword:
		if d, err := a.signIn(ctx, r, f, "", false); err != nil || d.Step != Done {
			return d, err
		}
		if !f.hasFactor() {
			return Decision{Step: Done}, nil
		}
		return a.recent(r, f), nil
	case ResetPassword:
		if p.ResetProved || !f.hasFactor() {
			return Decision{Step: Done}, nil
		}
		if slices.Contains(f.usable, KindPasskey) {
			// A new password is a change of credentials: a passkey holder
			// makes it with the passkey, as any other change.
			return Decision{Step: Challenge, Factors: []Kind{KindPasskey}}, nil
		}
		return needFactor(f), nil
	case AdminConsole:
		if !r.User.Admin {
			return Decision{Step: Refused, Refusal: RefusedNotAdmin}, nil
		}
		if passedSecondFactor(r.Session) {
			return Decision{Step: Done}, nil
		}
		return needFactor(f), nil
	}
	return Decision{}, fmt.Errorf("assurance: unknown action %d", p.Action)
}

// settledByTheSession reports whether the session's second factor alone
// answers the request, so that the user's factors need not be read: the hot
// path of every signed-in page and silent authentication. The lock is read
// all the same.
func settledByTheSession(r Request) bool {
	if !passedSecondFactor(r.Session) {
		return false
	}
	if r.Purpose.PhishingResistant && !PassedPhishingResistant(r.Session.Methods) {
		return false
	}
	switch r.Purpose.Action {
	case SignIn, UseAccount:
		return true
	case AdminConsole:
		return r.User.Admin
	}
	return false
}

// asksPolicy reports whether the request is a sign-in or account visit that
// the policy decides (no step-up asked).
func asksPolicy(r Request) bool {
	if r.Purpose.PhishingResistant {
		return false
	}
	switch r.Purpose.Action {
	case SignIn:
		return !r.Purpose.StepUp
	case UseAccount:
		return true
	}
	return false
}

// policy is the application's own policy, else the tenant's.
func (a *Authority) policy(ctx context.Context, appPolicy mfa.Policy) (mfa.Policy, error) {
	if appPolicy != "" {
		return appPolicy, nil
	}
	policy, err := a.d.Policies.Policy(ctx)
	if err != nil {
		return "", fmt.Errorf("assurance: read policy: %w", err)
	}
	return policy, nil
}

func passedSecondFactor(s Session) bool { return slices.Contains(s.Methods, "mfa") }

// needFactor is the step of a session that must pass a second factor now.
func needFactor(f facts) Decision {
	switch {
	case !f.hasFactor() && len(f.canEnrol) > 0:
		return Decision{Step: Enroll, Factors: f.canEnrol}
	case !f.hasFactor():
		return Decision{Step: Refused, Refusal: RefusedNoFactorOffered}
	case len(f.usable) > 0:
		return Decision{Step: Challenge, Factors: f.usable}
	}
	return Decision{Step: Refused, Refusal: RefusedNoUsableFactor}
}

// needPasskey is the step of a session that must pass a passkey: its own,
// else set one up, which a user who holds another factor does only after
// passing it (enrolling beside a factor needs a recent second factor).
func needPasskey(r Request, f facts) Decision {
	switch {
	case slices.Contains(f.usable, KindPasskey):
		return Decision{Step: Challenge, Factors: []Kind{KindPasskey}}
	case !slices.Contains(f.canEnrol, KindPasskey):
		return Decision{Step: Refused, Refusal: RefusedNoFactorOffered}
	case !f.hasFactor() || passedSecondFactor(r.Session):
		return Decision{Step: Enroll, Factors: []Kind{KindPasskey}}
	}
	return needFactor(f)
}

// recent admits a session whose second factor passed within RecentFor;
// others must pass one again. A user who holds a passkey changes factors only
// from a session that passed one: else whoever relayed an SMS code could add
// their own passkey, or remove the user's, and from then on pass for
// phishing-resistant.
func (a *Authority) recent(r Request, f facts) Decision {
	if slices.Contains(f.usable, KindPasskey) {
		// The passkey itself, recently: a code passed after an old passkey
		// proves no more than the code.
		if a.within(r.Session.PasskeyAt) {
			return Decision{Step: Done}
		}
		return Decision{Step: Challenge, Factors: []Kind{KindPasskey}, Reauthenticate: true}
	}
	if passedSecondFactor(r.Session) && a.within(r.Session.SecondFactorAt) {
		return Decision{Step: Done}
	}
	d := needFactor(f)
	d.Reauthenticate = d.Step == Challenge
	return d
}

// within reports whether at is set and no older than RecentFor.
func (a *Authority) within(at time.Time) bool {
	return !at.IsZero() && a.d.Now().Sub(at) <= a.d.RecentFor
}

// signIn applies the policy to a session that has not passed a second factor.
func (a *Authority) signIn(ctx context.Context, r Request, f facts, appPolicy mfa.Policy, stepUp bool) (Decision, error) {
	if passedSecondFactor(r.Session) {
		return Decision{Step: Done}, nil
	}
	if stepUp {
		return needFactor(f), nil
	}
	policy, err := a.policy(ctx, appPolicy)
	if err != nil {
		return Decision{}, err
	}
	if policy == mfa.PolicyNever {
		// Issues this one answer; the session and the device stay as
		// unproved as they were.
		return Decision{Step: Done}, nil
	}
	if f.hasFactor() && r.RememberedBrowser != nil {
		remembered, err := r.RememberedBrowser()
		if err != nil {
			return Decision{}, fmt.Errorf("assurance: remembered browser: %w", err)
		}
		if remembered {
			return Decision{Step: Done}, a.note(ctx, r)
		}
	}
	if policy != mfa.PolicyAdaptive {
		return needFactor(f), nil
	}
	switch r.Session.RiskDecision {
	case "allow":
		return Decision{Step: Done}, nil
	case "challenge":
		return needFactor(f), nil
	}
	if a.d.Assessor == nil {
		return needFactor(f), nil
	}
	as := a.d.Assessor.Assess(ctx, r.Attempt)
	if a.d.Recorder != nil {
		if err := a.d.Recorder.RecordAssessment(ctx, r, as); err != nil {
			return Decision{}, fmt.Errorf("assurance: record assessment: %w", err)
		}
	}
	if as.Challenge {
		d := needFactor(f)
		d.Assessment = &as
		return d, nil
	}
	return Decision{Step: Done, Assessment: &as}, a.note(ctx, r)
}

func (a *Authority) note(ctx context.Context, r Request) error {
	if a.d.Recorder == nil {
		return nil
	}
	if err := a.d.Recorder.NoteLogin(ctx, r); err != nil {
		return fmt.Errorf("assurance: note login: %w", err)
	}
	return nil
}

// Passed records that a second factor passed in the request's session: the
// login counts in the device history the adaptive signals read.
func (a *Authority) Passed(ctx context.Context, r Request) error { return a.note(ctx, r) }
