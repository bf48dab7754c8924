package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Session is a logged-in browser. The browser holds a random 256-bit token; only
// its SHA-256 is stored, so a database leak does not hand out live sessions.
type Session struct {
	idHash        []byte
	UserID        string
	AuthTime      time.Time
	AMR           []string // RFC 8176 methods used at login, e.g. ["pwd"]
	IP            netip.Addr
	UserAgent     string
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	// RiskDecision is what the adaptive MFA policy decided for this login:
	// "" (not assessed), "allow" or "challenge".
	RiskDecision string
	// SecondFactorAt is when a second factor last passed in this session;
	// zero until one has.
	SecondFactorAt time.Time
	// PasskeyAt is when a passkey last passed in this session; zero until
	// one has.
	PasskeyAt time.Time
}

// PasskeyMethods are the RFC 8176 methods a passkey adds to amr: "hwk" for a
// key bound to its device, "swk" for a synced one.
var PasskeyMethods = []string{"hwk", "swk"}

func hasPasskeyMethod(methods []string) bool {
	return slices.ContainsFunc(methods, func(m string) bool { return slices.Contains(PasskeyMethods, m) })
}

// IDHash is the stored form of the session token.
func (s Session) IDHash() []byte { return s.idHash }

// WithIDHash is for storage implementations rebuilding a Session from a row.
func (s Session) WithIDHash(h []byte) Session { s.idHash = h; return s }

// Sessions stores sessions by token hash.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns the session unless it has expired at now.
	SessionByHash(ctx context.Context, idHash []byte, now time.Time) (Session, error)
	TouchSession(ctx context.Context, idHash []byte, lastSeen, idleExpires time.Time) error
	// RenewSession gives the session oldHash the new token hash newHash,
	// the methods amr and second factor time at, in one statement; it
	// answers ErrNotFound when there is no such session any more.
	// passkeyAt is kept as when a passkey last passed (zero: none has).
	RenewSession(ctx context.Context, oldHash, newHash []byte, amr []string, at, passkeyAt time.Time) error
	SetSessionRiskDecision(ctx context.Context, idHash []byte, decision string) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteUserSessions ends every session of the user except keep (may be nil)
	// and reports how many ended.
	DeleteUserSessions(ctx context.Context, userID string, keep []byte) (int64, error)
	// UserSessions lists the user's live sessions, most recently used first.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
}

const tokenBytes = 32

func hashToken(token string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return nil, ErrNoSession
	}
	sum := sha256.Sum256(raw)
	return sum[:], nil
}

// StartSession logs the user in on this browser and returns the token for its
// cookie.
func (s *Service) StartSession(ctx context.Context, user User, amr []string, m Meta) (string, Session, error) {
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	sum := sha256.Sum256(raw)
	now := s.now()
	sess := Session{
		idHash:        sum[:],
		UserID:        user.ID,
		AuthTime:      now,
		AMR:           amr,
		IP:            m.IP,
		UserAgent:     m.UserAgent,
		CreatedAt:     now,
		LastSeenAt:    now,
		IdleExpiresAt: now.Add(s.limits.SessionIdle),
		ExpiresAt:     now.Add(s.limits.SessionMaxAge),
	}
	if slices.Contains(amr, "mfa") {
		// A login that is two factors at once (a user-verifying passkey).
		sess.SecondFactorAt = now
	}
	if hasPasskeyMethod(amr) {
		sess.PasskeyAt = now
	}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), sess, nil
}

// Resume finds the live session for a cookie token and its user. It answers
// ErrNoSession for a missing, malformed or expired token, and for a user who has
// since been deleted or blocked.
func (s *Service) Resume(ctx context.Context, token string) (Session, User, error) {
	h, err := hashToken(token)
	if err != nil {
		return Session{}, User{}, err
	}
	now := s.now()
	sess, err := s.sessions.SessionByHash(ctx, h, now)
	if errors.Is(err, ErrNotFound) {
		return Session{}, User{}, ErrNoSession
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("resume session: %w", err)
	}
	user, err := s.users.UserByID(ctx, sess.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && user.Blocked) {
		return Session{}, User{}, ErrNoSession
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("resume session: %w", err)
	}
	if now.Sub(sess.LastSeenAt) >= s.limits.SessionTouchAt {
		idle := now.Add(s.limits.SessionIdle)
		if idle.After(sess.ExpiresAt) {
			idle = sess.ExpiresAt
		}
		if err := s.sessions.TouchSession(ctx, h, now, idle); err != nil {
			return Session{}, User{}, fmt.Errorf("resume session: %w", err)
		}
		sess.LastSeenAt, sess.IdleExpiresAt = now, idle
	}
	return sess, user, nil
}

// EndSession logs the browser out. An unknown token is not an error: the
// browser is logged out either way.
func (s *Service) EndSession(ctx context.Context, token string, m Meta) error {
	h, err := hashToken(token)
	if err != nil {
		return nil
	}
	sess, err := s.sessions.SessionByHash(ctx, h, s.now())
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if err := s.sessions.DeleteSession(ctx, h); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	s.record(ctx, Event{Type: EventLogout, UserID: sess.UserID}, m)
	return nil
}

// PassSecondFactor records that the session's user has passed a second
// factor with these methods (RFC 8176 values such as "sms" and "mfa"), so
// later requests need not ask again, and renews the session: the browser gets
// a new token and the old one stops working, so a token that leaked before
// the second factor passed never carries its assurance.
func (s *Service) PassSecondFactor(ctx context.Context, sess Session, methods ...string) (string, Session, error) {
	amr := slices.Clone(sess.AMR)
	for _, m := range methods {
		if m != "" && !slices.Contains(amr, m) {
			amr = append(amr, m)
		}
	}
	raw := make([]byte, tokenBytes)
	rand.Read(raw)
	sum := sha256.Sum256(raw)
	now := s.now()
	passkeyAt := sess.PasskeyAt
	if hasPasskeyMethod(methods) {
		passkeyAt = now
	}
	if err := s.sessions.RenewSession(ctx, sess.idHash, sum[:], amr, now, passkeyAt); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", sess, ErrNoSession
		}
		return "", sess, fmt.Errorf("record second factor: %w", err)
	}
	sess.idHash, sess.AMR, sess.SecondFactorAt, sess.PasskeyAt = sum[:], amr, now, passkeyAt
	return base64.RawURLEncoding.EncodeToString(raw), sess, nil
}

// Sessions lists the user's live sessions, most recently used first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	list, err := s.sessions.UserSessions(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// EndUserSession logs out one of the user's sessions, e.g. a lost laptop from
// the account page; a session of another user is not found.
func (s *Service) EndUserSession(ctx context.Context, userID string, idHash []byte, m Meta) error {
	sess, err := s.sessions.SessionByHash(ctx, idHash, s.now())
	if errors.Is(err, ErrNotFound) || (err == nil && sess.UserID != userID) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if err := s.sessions.DeleteSession(ctx, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	s.record(ctx, Event{Type: EventLogout, UserID: userID, Details: map[string]any{"by": "user", "remote": true}}, m)
	return nil
}

// SetRiskDecision records the adaptive policy's decision for this login, so
// that it is made once.
func (s *Service) SetRiskDecision(ctx context.Context, sess Session, decision string) (Session, error) {
	if err := s.sessions.SetSessionRiskDecision(ctx, sess.idHash, decision); err != nil {
		return sess, fmt.Errorf("record risk decision: %w", err)
	}
	sess.RiskDecision = decision
	return sess, nil
}
