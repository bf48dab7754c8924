package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
)

// Mail purposes, also the outbox rows' purposes.
const (
	MailVerify = "verify"
	MailReset  = "reset"
)

// Errors of the emailed links. The server says which in words: a person who
// opens a week-old link should learn that it expired, not that it is wrong.
var (
	ErrLinkInvalid = errors.New("link is not valid")
	ErrLinkExpired = errors.New("link has expired")
	ErrLinkUsed    = errors.New("link was already used")
)

// Mail is an account mail to queue: the link's token goes into the text of
// a verification or reset mail, the change into a security announcement.
type Mail struct {
	Purpose   string // MailVerify, MailReset or MailSecurity
	UserID    string
	To        string
	Token     string
	ValidFor  time.Duration
	ExpiresAt time.Time
	// Security announcements only.
	Change SecurityChange
	At     time.Time // when the change was made
	From   string    // the address it was made from
}

// Mailer queues mails. The Service calls Enqueue inside the transaction that
// stores the link's token, so an outbox in the same database commits or rolls
// back with it.
type Mailer interface {
	Enqueue(ctx context.Context, m Mail) error
}

// Verification is one address verification link as stored.
type Verification struct {
	TokenHash []byte
	UserID    string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until followed
}

// EmailStore is the storage of the emailed links. InTx runs fn in one
// transaction that the other methods called with its ctx join.
type EmailStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateEmailVerification(ctx context.Context, v Verification) error
	// EmailVerificationSent reports whether a link was ever stored for the
	// user and this address (case aside), used or not.
	EmailVerificationSent(ctx context.Context, userID, email string) (bool, error)
	// EmailVerification returns the link or ErrNotFound.
	EmailVerification(ctx context.Context, tokenHash []byte) (Verification, error)
	// UseEmailVerification marks the link used and the user's address
	// verified, if at now the link is unused, unexpired and the user's address
	// is still the one it was sent to; it reports whether it did.
	UseEmailVerification(ctx context.Context, tokenHash []byte, now time.Time) (bool, error)
	SetEmailVerified(ctx context.Context, userID string, verified bool) error
	Resets
	// TakeCounters counts mail sends under keys of their own ("mail-to:…",
	// "mail-ip:…").
	limits.Store
}

// EmailRules are the lifetimes of the links and the limits on sending them.
type EmailRules struct {
	VerifyFor  time.Duration  // a verification link works this long
	ResetFor   time.Duration  // a reset link works this long
	PerAddress []limits.Limit // mails to one address, verification and reset together
	PerIP      []limits.Limit // mails asked for from one address (IPv6: per /64)
	// ResetAnswerAfter is the least time a reset request takes, in real
	// time, so that queuing a mail for an account does not take measurably
	// longer than the nothing done for an unknown address.
	ResetAnswerAfter time.Duration
}

// DefaultEmailRules are what docs/email.md describes.
func DefaultEmailRules() EmailRules {
	return EmailRules{
		VerifyFor:  24 * time.Hour,
		ResetFor:   30 * time.Minute,
		PerAddress: []limits.Limit{{Max: 3, Window: 15 * time.Minute}, {Max: 10, Window: 24 * time.Hour}},
		PerIP:      []limits.Limit{{Max: 10, Window: time.Hour}, {Max: 50, Window: 24 * time.Hour}},

		ResetAnswerAfter: 100 * time.Millisecond,
	}
}

// newLinkToken returns a random 256-bit token for a link and its stored hash.
func newLinkToken() (string, []byte) {
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(raw), sum[:]
}

// linkHash is the stored form of a token from a link; a malformed token is
// ErrLinkInvalid.
func linkHash(token string) ([]byte, error) {
	h, err := hashToken(token)
	if err != nil {
		return nil, ErrLinkInvalid
	}
	return h, nil
}

// linkState says why a link found by its hash no longer works, if it does not.
func linkState(usedAt, expiresAt, now time.Time) error {
	switch {
	case !usedAt.IsZero():
		return ErrLinkUsed
	case !now.Before(expiresAt):
		return ErrLinkExpired
	}
	return nil
}

// SendVerification mails the user a link that verifies their address, within
// the mail limits (*MailLimitError). An address already verified gets none.
func (s *Service) SendVerification(ctx context.Context, user User, m Meta) error {
	if s.email == nil || s.mailer == nil || user.EmailVerified {
		return nil
	}
	now := s.now()
	token, hash := newLinkToken()
	v := Verification{TokenHash: hash, UserID: user.ID, Email: user.Email, CreatedAt: now,
		ExpiresAt: now.Add(s.emailRules.VerifyFor)}
	err := s.email.InTx(ctx, func(ctx context.Context) error {
		if err := s.takeMailSends(ctx, user.Email, m, now); err != nil {
			return err
		}
		if err := s.email.CreateEmailVerification(ctx, v); err != nil {
			return fmt.Errorf("store verification link: %w", err)
		}
		return s.mailer.Enqueue(ctx, Mail{Purpose: MailVerify, UserID: user.ID, To: user.Email, Token: token,
			ValidFor: s.emailRules.VerifyFor, ExpiresAt: v.ExpiresAt})
	})
	if err != nil {
		return s.mailRefused(ctx, err, user.Email, m)
	}
	s.record(ctx, Event{Type: EventVerificationSent, UserID: user.ID, Subject: user.Email}, m)
	return nil
}

// SendsVerification reports whether verification links are mailed at all.
func (s *Service) SendsVerification() bool { return s.email != nil && s.mailer != nil }

// VerificationSent reports whether a verification link was mailed to the
// user's present address: users an administrator or an import created,
// and users who changed their address, may have had none.
func (s *Service) VerificationSent(ctx context.Context, user User) (bool, error) {
	if !s.SendsVerification() || user.EmailVerified {
		return false, nil
	}
	return s.email.EmailVerificationSent(ctx, user.ID, user.Email)
}

// VerifyEmail follows a verification link: the user's address becomes
// verified. ErrLinkInvalid, ErrLinkExpired and ErrLinkUsed say why not.
func (s *Service) VerifyEmail(ctx context.Context, token string, m Meta) (User, error) {
	if s.email == nil {
		return User{}, ErrLinkInvalid
	}
	hash, err := linkHash(token)
	if err != nil {
		return User{}, err
	}
	v, err := s.email.EmailVerification(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrLinkInvalid
	}
	if err != nil {
		return User{}, fmt.Errorf("find verification link: %w", err)
	}
	now := s.now()
	if err := linkState(v.UsedAt, v.ExpiresAt, now); err != nil {
		return User{}, err
	}
	ok, err := s.email.UseEmailVerification(ctx, hash, now)
	if err != nil {
		return User{}, fmt.Errorf("use verification link: %w", err)
	}
	if !ok {
		// Used by a concurrent request, or the address changed since.
		return User{}, ErrLinkUsed
	}
	user, err := s.users.UserByID(ctx, v.UserID)
	if err != nil {
		return User{}, fmt.Errorf("verify email: %w", err)
	}
	s.record(ctx, Event{Type: EventEmailVerified, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"by": "link"}}, m)
	return user, nil
}

// MarkEmailVerified records an administrator's word that the user owns their
// address. by names who vouched ("operator" for the CLI, "admin:<user id>"
// for the console) and goes into the audit event.
func (s *Service) MarkEmailVerified(ctx context.Context, userID, by string, m Meta) (User, error) {
	if s.email == nil {
		return User{}, errors.New("mark email verified: no email store configured")
	}
	user, err := s.users.UserByID(ctx, userID)
	if err != nil {
		return User{}, fmt.Errorf("mark email verified: %w", err)
	}
	if err := s.email.SetEmailVerified(ctx, userID, true); err != nil {
		return User{}, fmt.Errorf("mark email verified: %w", err)
	}
	s.record(ctx, Event{Type: EventEmailVerified, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"by": by, "already": user.EmailVerified}}, m)
	user.EmailVerified = true
	return user, nil
}
