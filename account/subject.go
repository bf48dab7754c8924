package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A user's subject is the "sub" of their tokens and userinfo: what the apps
// key their data by. It never changes. The id stays the key inside
// Gatehouse; the subject is unique too, and for users created before
// subjects existed, or with the default style, it is the id itself. A user
// imported from Auth0 keeps Auth0's user_id ("auth0|60d5…") as subject.

// SubjectStyle is how the subject of a new (not imported) user is made.
type SubjectStyle string

const (
	// SubjectUUID makes the subject the user's id, a UUID.
	SubjectUUID SubjectStyle = "uuid"
	// SubjectAuth0 makes subjects shaped like those of Auth0's database
	// connection, "auth0|" and 24 hex digits, for a team whose apps expect
	// every user to look like the ones it imported.
	SubjectAuth0 SubjectStyle = "auth0"
)

// SubjectStyleSource says which style applies now; it is the admin's
// setting. An error leaves the user uncreated: a subject cannot be changed
// afterwards, so none is made in a style that may be the wrong one.
type SubjectStyleSource func(ctx context.Context) (SubjectStyle, error)

// ErrInvalidSubject refuses a subject that could not serve as a token's sub.
var ErrInvalidSubject = errors.New("invalid subject: 1 to 255 bytes of printable characters without spaces")

// ErrSubjectTaken says another user has this subject already.
var ErrSubjectTaken = errors.New("another user has this subject")

const maxSubjectLength = 255

// CheckSubject accepts what an OpenID provider may put in sub (OpenID
// Connect Core §2: at most 255 ASCII characters, though case-sensitive
// printable Unicode appears in the wild): printable, no spaces or controls.
func CheckSubject(sub string) error {
	if sub == "" || len(sub) > maxSubjectLength || !utf8.ValidString(sub) {
		return ErrInvalidSubject
	}
	for _, r := range sub {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ErrInvalidSubject
		}
	}
	return nil
}

// checkImportedSubject accepts a subject brought from another provider. Two
// shapes are kept from it on top of CheckSubject's rules: a UUID, which is
// how Gatehouse's own ids and default subjects look, so that an imported
// user_id can never be read as another user's id (the admin and Management
// APIs take either); and "<client>@clients", the sub of a machine's token,
// which APIs tell from a person's by that shape. Auth0's user_ids always
// carry a connection prefix ("auth0|…"), so neither refuses a real one.
func checkImportedSubject(sub string) error {
	if err := CheckSubject(sub); err != nil {
		return err
	}
	if IsUUID(sub) {
		return fmt.Errorf("%w: a user_id shaped like a Gatehouse id (a UUID) could name another user", ErrInvalidSubject)
	}
	if strings.HasSuffix(sub, "@clients") {
		return fmt.Errorf("%w: a user_id ending in @clients is the subject of a machine's token", ErrInvalidSubject)
	}
	return nil
}

// IsUUID reports whether s is a UUID in its text form, in any case: the
// shape of user ids (and other row ids), which the store and the admin pages
// check before asking Postgres, so a malformed id names nothing instead of
// becoming a database error.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// newSubject makes the subject of a new user in style; "" lets the store
// use the user's id.
func newSubject(style SubjectStyle) (string, error) {
	switch style {
	case SubjectUUID, "":
		return "", nil
	case SubjectAuth0:
		// Auth0's database users have a 12-byte Mongo ObjectId after the
		// prefix; random bytes of the same length look alike.
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("make subject: %w", err)
		}
		return "auth0|" + hex.EncodeToString(b[:]), nil
	}
	return "", fmt.Errorf("unknown subject style %q", style)
}

// subjectForNewUser is the subject a new user gets under the current style.
func (s *Service) subjectForNewUser(ctx context.Context) (string, error) {
	style := SubjectUUID
	if s.subjectStyle != nil {
		var err error
		if style, err = s.subjectStyle(ctx); err != nil {
			return "", fmt.Errorf("read the subject style: %w", err)
		}
	}
	return newSubject(style)
}

// UserByReference finds a user by id or by subject, as an admin or an API
// caller names them: either may be what they have at hand.
func (s *Service) UserByReference(ctx context.Context, ref string) (User, error) {
	ref = strings.TrimSpace(ref)
	if CheckSubject(ref) != nil {
		return User{}, ErrNotFound // names no one, and is not for the database to parse
	}
	u, err := s.users.UserByID(ctx, ref)
	if !errors.Is(err, ErrNotFound) {
		return u, err
	}
	return s.users.UserBySubject(ctx, ref)
}
