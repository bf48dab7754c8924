// Package assurance is the one authority on what a browser session has proved
// and what it must prove next. Every door asks it: the authorization endpoint,
// the account pages, the factor screens, the admin console and the password
// reset. It knows nothing of HTTP or SQL; it gathers the facts it needs
// through the interfaces it declares and answers with a Decision that the
// caller renders.
//
//	Request{user, session, purpose} ─► facts (factors, lock, policy, risk)
//	      │
//	      ▼
//	   Decide ─► Done | Enroll(kinds) | Challenge(kinds) | Locked(until) | Refused(reason)
//
// The rules it enforces, whatever the route:
//   - a session is "password only" until a second factor passes in it;
//   - a user who has a second factor adds, replaces or removes a factor,
//     regenerates recovery codes or changes the password only from a session
//     that passed a second factor within RecentFor ("sudo mode");
//   - first enrollment is open only to a user with no factor;
//   - an application's own "never" issues that application's code and changes
//     nothing about the session's assurance or the device's trust;
//   - the MFA lock holds on every path, and a factor kind the admin turned
//     off (Phone Message) is neither offered nor accepted anywhere;
//   - where a phishing-resistant factor is required (an application's
//     setting or acr_values, the console's setting) only a passkey passed in
//     the session will do: no policy, remembered browser or other factor
//     lifts it.
package assurance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// Kind names a second factor. Its string is the RFC 8176 method a pass adds
// to the session's amr, except recovery codes, which add only "mfa", and
// passkeys, whose method depends on the key.
type Kind string

const (
	KindApp      Kind = "otp" // an authenticator app (TOTP)
	KindPhone    Kind = "sms" // a verified phone, codes by text message
	KindRecovery Kind = "recovery"
	// KindPasskey is a WebAuthn credential: "hwk" when the key cannot leave
	// its device, "swk" when it is synced. The only phishing-resistant kind.
	KindPasskey Kind = "passkey"
)

// Method is the amr value passing this kind adds besides "mfa", or "" when
// the kind alone does not say (recovery codes add none; a passkey adds its
// key's).
func (k Kind) Method() string {
	switch k {
	case KindRecovery, KindPasskey:
		return ""
	}
	return string(k)
}

// PhishingResistant is the acr of a session that passed a passkey, and the
// acr_values an application names to ask for one (OpenID PAPE).
const PhishingResistant = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant"

// PassedPhishingResistant reports whether a session's amr shows a passkey.
func PassedPhishingResistant(methods []string) bool {
	return slices.ContainsFunc(methods, func(m string) bool { return slices.Contains(account.PasskeyMethods, m) })
}

// Factor is one kind of second factor. A new factor is one implementation of
// this interface, one entry in Deps.Factors and its screens.
type Factor interface {
	Kind() Kind
	// Enabled reports whether the admin allows this kind now.
	Enabled(ctx context.Context) (bool, error)
	// Enrolled reports whether the user holds this factor.
	Enrolled(ctx context.Context, userID string) (bool, error)
}

// Locks reads the user's MFA lock: nil, a *mfa.LockedError or
// mfa.ErrAccountLocked.
type Locks interface {
	CheckLock(ctx context.Context, userID string) error
}

// Assessor runs the adaptive policy's signals.
type Assessor interface {
	Assess(ctx context.Context, a risk.Attempt) risk.Assessment
}

// Recorder keeps what a decision leaves behind: the adaptive assessment of a
// session (so it is made once, and the admin can read it) and the logins the
// policy accepted, which later assessments compare new logins with.
type Recorder interface {
	RecordAssessment(ctx context.Context, r Request, a risk.Assessment) error
	NoteLogin(ctx context.Context, r Request) error
}

// Policies reads the tenant's MFA policy.
type Policies interface {
	Policy(ctx context.Context) (mfa.Policy, error)
}

// Deps are the authority's collaborators. Factors are in the order they are
// offered: the cheapest and strongest first. Assessor may be nil (adaptive
// then challenges every login it is asked about). RecentFor defaults to
// DefaultRecentFor.
type Deps struct {
	Factors []Factor
	// Enrollment orders the kinds a first enrollment offers; kinds left
	// out follow in the order of Factors.
	Enrollment []Kind
	Locks      Locks
	Policies   Policies
	Assessor   Assessor
	Recorder   Recorder
	RecentFor  time.Duration
	Now        func() time.Time
}

// DefaultRecentFor is how long after a second factor passed a session may
// change factors and the password without proving one again.
const DefaultRecentFor = 15 * time.Minute

// Authority decides. It is safe for concurrent use.
type Authority struct {
	d Deps
}

func New(d Deps) *Authority {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RecentFor <= 0 {
		d.RecentFor = DefaultRecentFor
	}
	return &Authority{d: d}
}

// facts are what the rules look at, gathered once per decision.
type facts struct {
	enrolled []Kind // held by the user, whether or not enabled
	usable   []Kind // held and enabled, in offering order
	canEnrol []Kind // enabled and set up by the user (not recovery codes, which are issued)
	lock     error
}

func (f facts) hasFactor() bool {
	return slices.ContainsFunc(f.enrolled, func(k Kind) bool { return k != KindRecovery })
}

func (a *Authority) gather(ctx context.Context, userID string, withFactors bool) (facts, error) {
	var f facts
	if !withFactors {
		return f, a.readLock(ctx, userID, &f)
	}
	for _, fac := range a.d.Factors {
		enabled, err := fac.Enabled(ctx)
		if err != nil {
			return f, fmt.Errorf("assurance: %s enabled: %w", fac.Kind(), err)
		}
		if enabled && fac.Kind() != KindRecovery {
			f.canEnrol = append(f.canEnrol, fac.Kind())
		}
		held, err := fac.Enrolled(ctx, userID)
		if err != nil {
			return f, fmt.Errorf("assurance: %s enrolled: %w", fac.Kind(), err)
		}
		if !held {
			continue
		}
		f.enrolled = append(f.enrolled, fac.Kind())
		if enabled {
			f.usable = append(f.usable, fac.Kind())
		}
	}
	f.canEnrol = orderBy(f.canEnrol, a.d.Enrollment)
	if !f.hasFactor() {
		// Recovery codes are a way through a factor's challenge, not a
		// factor of their own: left over after the last factor was removed,
		// they prove nothing.
		f.usable = slices.DeleteFunc(f.usable, func(k Kind) bool { return k == KindRecovery })
	}
	return f, a.readLock(ctx, userID, &f)
}

// readLock records the user's MFA lock in f, if there is one.
func (a *Authority) readLock(ctx context.Context, userID string, f *facts) error {
	if a.d.Locks == nil {
		return nil
	}
	err := a.d.Locks.CheckLock(ctx, userID)
	var locked *mfa.LockedError
	switch {
	case err == nil:
	case errors.As(err, &locked), errors.Is(err, mfa.ErrAccountLocked):
		f.lock = err
	default:
		return fmt.Errorf("assurance: read lock: %w", err)
	}
	return nil
}

// orderBy puts the kinds named in order first, in that order.
func orderBy(kinds, order []Kind) []Kind {
	out := make([]Kind, 0, len(kinds))
	for _, k := range order {
		if slices.Contains(kinds, k) {
			out = append(out, k)
		}
	}
	for _, k := range kinds {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
