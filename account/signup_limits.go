package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
)

// SignupRules limit how many accounts one client address may create. Each new
// account may ask for codes to a new phone number, so unlimited signups would
// turn the SMS limits per user into no limit at all.
type SignupRules struct {
	PerIP []limits.Limit // successful signups from one address (IPv6: per /64)
	// Closed refuses every counted signup (ErrSignupsClosed): the limits in
	// force are unknown, as when the settings that set them cannot be read,
	// and counting against looser ones would let through what they refuse.
	Closed bool
}

// ErrSignupsClosed refuses a signup while the limits that apply to it are
// unknown.
var ErrSignupsClosed = errors.New("signups are closed while their limits cannot be read")

// DefaultSignupRules allow 10 signups an hour and 50 a day from one address:
// more than a household or an office signs up, far fewer than a script needs.
func DefaultSignupRules() SignupRules {
	return SignupRules{PerIP: []limits.Limit{{Max: 10, Window: time.Hour}, {Max: 50, Window: 24 * time.Hour}}}
}

// SignupRuleSource lays the settings an admin changes at run time over base.
type SignupRuleSource func(ctx context.Context, base SignupRules) SignupRules

// SignupCounters keeps the signup counters in the database, in the
// fixed-window counters the mail and SMS limits use, so that every replica
// sees the same counts. InTx runs fn in one transaction that TakeCounters and
// Users.CreateUser called with its ctx join: a signup that fails (an address
// already registered) then counts nowhere.
type SignupCounters interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// TakeCounters counts signups under keys of their own ("signup-ip:…").
	limits.Store
}

// SignupLimitError says the client's address created too many accounts
// lately; it may sign up again at RetryAt.
type SignupLimitError struct{ RetryAt time.Time }

func (e *SignupLimitError) Error() string {
	return "too many signups from this address; retry at " + e.RetryAt.Format(time.RFC3339)
}

func (s *Service) signupRules(ctx context.Context) SignupRules {
	if s.tuneSignups == nil {
		return s.signupBase
	}
	return s.tuneSignups(ctx, s.signupBase)
}

// createCounted creates the user and counts the signup against the limits of
// ip in one transaction, so that only accounts actually created count and a
// refused signup creates none. The limit is taken before the insert: past it,
// every address typed gets the same refusal, registered or not.
func (s *Service) createCounted(ctx context.Context, u NewUser, ip netip.Addr) (User, error) {
	var err error
	if u.Subject, err = s.subjectForNewUser(ctx); err != nil {
		// The subjects' style is a setting too: unreadable, it closes
		// signups as unreadable limits do.
		return User{}, fmt.Errorf("%w: %v", ErrSignupsClosed, err)
	}
	if s.signups == nil {
		return s.users.CreateUser(ctx, u)
	}
	var user User
	err = s.signups.InTx(ctx, func(ctx context.Context) error {
		if err := s.takeSignup(ctx, ip, s.now()); err != nil {
			return err
		}
		var err error
		user, err = s.users.CreateUser(ctx, u)
		return err
	})
	return user, err
}

func (s *Service) takeSignup(ctx context.Context, ip netip.Addr, now time.Time) error {
	rules := s.signupRules(ctx)
	if rules.Closed {
		return ErrSignupsClosed
	}
	cs := limits.Counters("ip", "signup-ip:"+limits.IPKey(ip), now, rules.PerIP...)
	refused, taken, err := limits.Take(ctx, s.signups, cs)
	if err != nil {
		return fmt.Errorf("count signups: %w", err)
	}
	if !taken {
		return &SignupLimitError{RetryAt: refused.WindowEnd}
	}
	return nil
}

// signupRefused audits a signup a limit refused and passes err on.
func (s *Service) signupRefused(ctx context.Context, err error, email string, m Meta) error {
	var limit *SignupLimitError
	if errors.As(err, &limit) {
		s.record(ctx, Event{Type: EventSignupLimitHit, Subject: emailKey(email),
			Details: map[string]any{"limit": "ip", "retry_at": limit.RetryAt}}, m)
	}
	return err
}
