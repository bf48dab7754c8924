// Package mfa holds the rules of the second factors themselves: the SMS phone
// (which numbers are accepted, how they are kept at rest, how codes are made,
// sent, checked and limited, how failures lock a user out), the authenticator
// app (TOTP secrets sealed at rest, codes used once), recovery codes (issued
// with the first factor, single use, stored as HMACs), remembered browsers
// ("remember this browser": who may skip the next challenge, and what forgets
// them), the send limits against SMS pumping, and the wiring of the adaptive
// policy's engine (package risk holds its signals). Whether a session must
// pass a factor is decided by package assurance; passkeys are package
// passkey's. It knows nothing of HTTP or SQL: it declares the storage it
// needs (Store) and the outbox it hands messages to (Outbox); package store
// implements both against Postgres.
//
// A challenge belongs to one login transaction and one user:
//
//	StartChallenge ─ locks? limits? ─► challenge row + outbox message (one transaction)
//	      │
//	      ├─ Resend (after the cooldown; new code, same attempts) ──┐
//	      ▼                                                         │
//	   Verify ◄─────────────────────────────────────────────────────┘
//	      ├─ right code, first to use it ─► passed (single use)
//	      ├─ wrong ─► attempts+1, user failures+1 (5th wrong ends it; 10th failure locks)
//	      └─ expired / used / ended ─► refused, nothing counted
//
// Enrollment is the same challenge with purpose "enroll"; EnrollVerified makes
// the number the user's factor only after such a challenge passed.
package mfa

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// Audit event types. They are stable: admins filter on them.
const (
	EventEnrolled            = "mfa.enrolled"
	EventChallengeStarted    = "mfa.challenge_started" // and each resend, with details.resend
	EventChallengePassed     = "mfa.challenge_passed"
	EventChallengeFailed     = "mfa.challenge_failed"
	EventRecoveryCodeUsed    = "mfa.recovery_code_used"
	EventRecoveryCodesIssued = "mfa.recovery_codes_issued"
	EventLimitHit            = "mfa.limit_hit"
	EventLocked              = "mfa.locked" // a lock began, or an action was refused by one
	EventReset               = "mfa.reset"
)

// Audit stores security events; package store's Record implements it.
type Audit interface {
	Record(ctx context.Context, e account.Event) error
}

// OutboxMessage is one SMS to deliver. Code is there for providers with
// verification APIs; Text already carries it.
type OutboxMessage struct {
	ChallengeID string
	UserID      string
	To          string // E.164
	Text        string
	Code        string
	Purpose     string
	ExpiresAt   time.Time
	CountryCode int
}

// Outbox accepts messages for delivery. The Service calls Enqueue inside the
// transaction that creates or renews the challenge (Store.InTx), so an outbox
// writing through the same database commits or rolls back with it.
type Outbox interface {
	Enqueue(ctx context.Context, m OutboxMessage) error
}

// Store is the storage the SMS factor needs. InTx runs fn in one transaction
// that every other method called with its ctx joins.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Challenges
	Counters
	Factors
	TrustedBrowsers
	TOTPs
}

// Service carries out the SMS factor. It is safe for concurrent use, and any
// number of Services (replicas) may share one Store.
type Service struct {
	store  Store
	outbox Outbox
	audit  Audit
	codes  *CodeHasher
	vault  *PhoneVault
	totp   *TOTPVault
	rules  Rules
	tune   RuleSource
	now    func() time.Time
	log    *slog.Logger
	words  Wording
}

// Wording writes the first line of a code's text message for the language
// of ctx's request; the Service adds the WebOTP line itself.
type Wording func(ctx context.Context, app, code string) string

// RuleSource lays the settings an admin changes at run time (limits, the
// remember-browser lifetime) over the Service's rules.
type RuleSource func(ctx context.Context, base Rules) Rules

// Deps are the Service's collaborators. Now defaults to time.Now.
type Deps struct {
	Store  Store
	Outbox Outbox
	Audit  Audit
	Codes  *CodeHasher
	Vault  *PhoneVault
	TOTP   *TOTPVault // nil: no authenticator apps
	Rules  Rules
	Tune   RuleSource // nil: Rules as they are
	Now    func() time.Time
	Log    *slog.Logger
	// Wording is the message's first line; nil: English.
	Wording Wording
}

func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store: d.Store, outbox: d.Outbox, audit: d.Audit, codes: d.Codes, vault: d.Vault, totp: d.TOTP,
		rules: d.Rules, tune: d.Tune, now: d.Now, log: d.Log, words: d.Wording,
	}
}

// Rules reports the rules the service enforces now.
func (s *Service) Rules(ctx context.Context) Rules { return s.rulesFor(ctx) }

func (s *Service) rulesFor(ctx context.Context) Rules {
	if s.tune == nil {
		return s.rules
	}
	return s.tune(ctx, s.rules)
}

// record writes an audit event outside any transaction, so that a refused and
// rolled-back action is still on record. A failure to audit is logged and does
// not undo the action.
func (s *Service) record(ctx context.Context, e account.Event) {
	e.At = s.now()
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
}

// newID returns a random (version 4) UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
