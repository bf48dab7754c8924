package account

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
)

// EventUserImported records a user brought over from another identity
// provider; details name the source and the user's id there.
const EventUserImported = "user.imported"

// Imported is a user as another identity provider exported it.
type Imported struct {
	Email         string
	Name          string
	EmailVerified bool
	// PasswordHash is bcrypt or argon2id; empty leaves the account without a
	// password until the user sets one through "Forgot password?".
	PasswordHash string
	CreatedAt    time.Time // zero: now
	Source       string    // e.g. "auth0"
	// ExternalID is the user's id at the source, e.g. "auth0|64f…". It
	// becomes the user's subject, so their tokens' sub stays what the apps
	// know them by; empty gives them a new subject, as a new user gets.
	ExternalID string
	// UserMetadata and AppMetadata are JSON objects, or empty.
	UserMetadata, AppMetadata []byte
}

// ImportUser stores an imported user with the hash it came with: the password
// rules cannot be checked without the password, and a bcrypt hash is
// replaced by argon2id at the first login. ErrEmailTaken when the address is
// registered already, so a second run of an import skips what it did before.
func (s *Service) ImportUser(ctx context.Context, in Imported, m Meta) (User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	name, err := normalizeName(in.Name)
	if err != nil {
		return User{}, err
	}
	if in.PasswordHash != "" {
		if err := password.CheckHash(in.PasswordHash); err != nil {
			return User{}, err
		}
	}
	subject := in.ExternalID
	if subject != "" {
		if err := checkImportedSubject(subject); err != nil {
			return User{}, err
		}
	} else if subject, err = s.subjectForNewUser(ctx); err != nil {
		return User{}, err
	}
	userMeta, err := ParseMetadata(UserMetadata, in.UserMetadata)
	if err != nil {
		return User{}, err
	}
	appMeta, err := ParseMetadata(AppMetadata, in.AppMetadata)
	if err != nil {
		return User{}, err
	}
	created := in.CreatedAt
	if created.IsZero() || created.After(s.now()) {
		created = s.now()
	}
	user, err := s.users.CreateUser(ctx, NewUser{Email: email, EmailVerified: in.EmailVerified, Name: name,
		PasswordHash: in.PasswordHash, CreatedAt: created, Subject: subject, UserMetadata: userMeta, AppMetadata: appMeta})
	if err != nil {
		return User{}, fmt.Errorf("import user: %w", err)
	}
	s.record(ctx, Event{Type: EventUserImported, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"source": in.Source, "external_id": in.ExternalID, "has_password": in.PasswordHash != ""}}, m)
	return user, nil
}
