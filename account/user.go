package account

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is an end user (or admin) of the apps that log in through Gatehouse.
type User struct {
	ID                string
	Email             string
	EmailVerified     bool
	Name              string
	PasswordHash      string
	Admin             bool
	Blocked           bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordChangedAt time.Time // zero when never set
	LastLoginAt       time.Time // zero when never logged in
	// Subject is the sub of the user's tokens (see subject.go); the id
	// when nothing else was given.
	Subject string
	// UserMetadata and AppMetadata are JSON objects (see metadata.go).
	UserMetadata json.RawMessage
	AppMetadata  json.RawMessage
	// Language is the tag the user chose on the account page; "" for none.
	Language string
}

// NewUser is what creating a user needs; the store assigns ID and timestamps.
type NewUser struct {
	Email         string
	EmailVerified bool
	Name          string
	PasswordHash  string
	Admin         bool
	CreatedAt     time.Time
	Subject       string // "": the user's id
	UserMetadata  json.RawMessage
	AppMetadata   json.RawMessage
}

// Users is the user storage the service needs. Lookups by email ignore case.
type Users interface {
	// CreateUser answers ErrEmailTaken or ErrSubjectTaken on a duplicate.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	UserBySubject(ctx context.Context, subject string) (User, error)
	// SetPasswordHash replaces the hash; changedAt is zero for a rehash of the
	// same password, which must not count as a password change.
	SetPasswordHash(ctx context.Context, id, hash string, changedAt time.Time) error
	RecordLogin(ctx context.Context, id string, at time.Time) error
}

const (
	maxEmailLength = 254 // RFC 5321 path limit
	maxNameLength  = 200
)

// NormalizeEmail trims the address and checks it is a single bare address
// (no display name), as a login form would receive it.
func NormalizeEmail(raw string) (string, error) {
	email := strings.TrimSpace(raw)
	if email == "" || len(email) > maxEmailLength || !utf8.ValidString(email) {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || !strings.Contains(email[at+1:], ".") || strings.HasSuffix(email, ".") {
		return "", ErrInvalidEmail
	}
	return email, nil
}

// emailKey is the case-folded form used for counters, so "Ann@x.io" and
// "ann@x.io" share one lockout.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func normalizeName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	if utf8.RuneCountInString(name) > maxNameLength || !utf8.ValidString(name) {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// CreateUser adds a user on an operator's word (CLI, seeding): the password
// rules still apply, because an operator-chosen weak password is just as weak.
func (s *Service) CreateUser(ctx context.Context, email, name, plain string, admin bool, m Meta) (User, error) {
	u, err := s.newUser(ctx, email, name, plain)
	if err != nil {
		return User{}, err
	}
	u.Admin = admin
	if u.Subject, err = s.subjectForNewUser(ctx); err != nil {
		return User{}, err
	}
	user, err := s.users.CreateUser(ctx, u)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	s.record(ctx, Event{Type: EventUserCreated, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"admin": admin, "by": "operator"}}, m)
	return user, nil
}

// newUser validates the inputs of a new account and hashes its password.
func (s *Service) newUser(ctx context.Context, email, name, plain string) (NewUser, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return NewUser{}, err
	}
	name, err = normalizeName(name)
	if err != nil {
		return NewUser{}, err
	}
	if err := s.policy.Check(plain, contextWords(email)...); err != nil {
		return NewUser{}, err
	}
	hash, err := s.hasher.Hash(ctx, plain)
	if err != nil {
		return NewUser{}, fmt.Errorf("hash password: %w", err)
	}
	return NewUser{Email: email, Name: name, PasswordHash: hash, CreatedAt: s.now()}, nil
}

// contextWords are the words a user's password must not be (NIST 800-63B's
// "context-specific words"); the policy also refuses an email's local part.
func contextWords(email string) []string { return []string{email, "gatehouse"} }

// User returns the user with this id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	return s.users.UserByID(ctx, id)
}
