// Package account is the domain of end-user accounts: signing up, logging in with
// a password, brute-force protection and browser sessions. It knows nothing of
// HTTP or SQL: it declares the storage it needs (Users, Sessions, Failures,
// AuditLog) and the store package implements them against Postgres.
package account

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
)

// Errors a caller can act on. Their text is for logs; the server chooses the
// words a person sees.
var (
	ErrNotFound           = errors.New("not found")
	ErrEmailTaken         = errors.New("email address already registered")
	ErrInvalidEmail       = errors.New("invalid email address")
	ErrInvalidName        = errors.New("invalid name")
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrBlocked            = errors.New("user is blocked")
	ErrNoSession          = errors.New("no valid session")
)

// LockedError says a login was refused without checking the password because
// this account name and address failed too often; it ends at Until.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed logins for this account from this address"
}

// ThrottledError says the address failed too many logins across accounts; it
// may try again at Until.
type ThrottledError struct{ Until time.Time }

func (e *ThrottledError) Error() string { return "too many failed logins from this address" }

// Meta describes the request an action comes from, for limits and the audit log.
type Meta struct {
	IP        netip.Addr
	UserAgent string
	RequestID string
}

// Limits are the brute-force and session rules. DefaultLimits are the values
// the issue tracker and NIST 800-63B call for; tests shorten nothing, they move
// the clock.
type Limits struct {
	PairFailures   int           // consecutive failures for one account name + address …
	PairLockout    time.Duration // … lock that pair for this long
	IPFailures     int           // failures from one address across accounts within IPWindow …
	IPWindow       time.Duration
	IPThrottle     time.Duration // … then allow one attempt per this interval
	SessionIdle    time.Duration // a session unused this long ends
	SessionMaxAge  time.Duration // a session ends this long after login, used or not
	SessionTouchAt time.Duration // last-seen is written at most this often
}

func DefaultLimits() Limits {
	return Limits{
		PairFailures:   10,
		PairLockout:    15 * time.Minute,
		IPFailures:     100,
		IPWindow:       24 * time.Hour,
		IPThrottle:     time.Minute,
		SessionIdle:    72 * time.Hour,
		SessionMaxAge:  30 * 24 * time.Hour,
		SessionTouchAt: time.Minute,
	}
}

// Service carries out account actions. It is safe for concurrent use.
type Service struct {
	users    Users
	sessions Sessions
	failures Failures
	audit    AuditLog
	dir      Directory
	hasher   *password.Hasher
	policy   *password.Policy
	limits   Limits
	now      func() time.Time
	log      *slog.Logger

	tokens     Tokens
	email      EmailStore
	mailer     Mailer
	factors    SecondFactors
	emailRules EmailRules

	signups     SignupCounters
	signupBase  SignupRules
	tuneSignups SignupRuleSource

	subjectStyle SubjectStyleSource
	metadata     MetadataStore
}

// Deps are the Service's collaborators. Now defaults to time.Now.
type Deps struct {
	Users    Users
	Sessions Sessions
	Failures Failures
	Audit    AuditLog
	Hasher   *password.Hasher
	Policy   *password.Policy
	Limits   Limits
	Now      func() time.Time
	Log      *slog.Logger

	// Email, Mailer and EmailRules turn on verification and reset links;
	// with Email nil there are none. SecondFactors makes a reset pass the
	// user's second factor first; nil means no user has one.
	Email         EmailStore
	Mailer        Mailer
	SecondFactors SecondFactors
	EmailRules    EmailRules
	// Directory serves administrators' actions; nil uses Users when it
	// implements Directory too, as the Postgres store does.
	Directory Directory
	// Signups counts signups against SignupRules, laid over by TuneSignups
	// when set; with Signups nil, signups are not limited.
	Signups     SignupCounters
	SignupRules SignupRules
	TuneSignups SignupRuleSource
	// Tokens ends a user's OAuth tokens when the password changes; nil uses
	// Users when it implements Tokens too, as the Postgres store does.
	Tokens Tokens
	// SubjectStyle chooses the subjects of new users; nil makes them the
	// user's id.
	SubjectStyle SubjectStyleSource
	// Metadata keeps users' metadata; nil uses Users when it implements
	// MetadataStore too, as the Postgres store does.
	Metadata MetadataStore
}

func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Directory == nil {
		d.Directory, _ = d.Users.(Directory)
	}
	if d.Tokens == nil {
		d.Tokens, _ = d.Users.(Tokens)
	}
	if d.Metadata == nil {
		d.Metadata, _ = d.Users.(MetadataStore)
	}
	return &Service{
		users: d.Users, sessions: d.Sessions, failures: d.Failures, audit: d.Audit,
		hasher: d.Hasher, policy: d.Policy, limits: d.Limits, now: d.Now, log: d.Log,
		email: d.Email, mailer: d.Mailer, factors: d.SecondFactors, emailRules: d.EmailRules,
		dir: d.Directory, signups: d.Signups, signupBase: d.SignupRules, tuneSignups: d.TuneSignups, tokens: d.Tokens,
		subjectStyle: d.SubjectStyle, metadata: d.Metadata,
	}
}

// record writes an audit event; a failure to audit is logged, never hidden, but
// does not undo the action it describes.
func (s *Service) record(ctx context.Context, e Event, m Meta) {
	e.At = s.now()
	e.IP, e.UserAgent, e.RequestID = m.IP, m.UserAgent, m.RequestID
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
}
