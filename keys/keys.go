// Package keys holds the RS256 keys that sign Gatehouse's tokens: it makes
// them, seals them with the master key for storage, rotates them and
// publishes their public halves as a JWKS. It knows nothing of HTTP or SQL;
// it declares the Store it needs and the store package implements it.
//
// Every key passes through three states:
//
//	next ──Rotate──▶ current ──Rotate──▶ retired ──RetainFor──▶ purged
//	(published,      (signs,             (published,
//	 not signing)     published)          verifies old tokens)
//
// A key is published in the JWKS while it is next, so relying parties' caches
// learn it before the first token it signs. A retired key stays published, and
// tokens it signed keep verifying (id_token_hint, introspection), until
// RetainFor after its retirement, which must exceed the longest token lifetime;
// the first rotation after that deletes it.
//
// Keys are rows shared by every replica. A Manager caches them for at most
// Refresh, so a rotation made by one replica (or by `gatehouse keys
// rotate`) reaches the others within Refresh. The new current key has been
// published as next since the previous rotation, so relying parties that
// refreshed their JWKS since then already know it.
package keys

import (
	"context"
	"errors"
	"time"
)

// State is where a key is in its life.
type State string

const (
	Next    State = "next"
	Current State = "current"
	Retired State = "retired"
)

// Sealed is a key as stored: its private half encrypted with the master key.
type Sealed struct {
	ID          string // kid: 16 random bytes, base64url without padding
	State       State
	Ciphertext  []byte
	CreatedAt   time.Time
	ActivatedAt time.Time // zero until the key became current
	RetiredAt   time.Time // zero until the key was retired
}

// Store keeps the sealed keys where every replica sees them.
type Store interface {
	// SigningKeys returns every key not yet purged.
	SigningKeys(ctx context.Context) ([]Sealed, error)
	// InitSigningKeys stores current and next only if there are no keys at
	// all, and reports whether it did. Replicas starting together may all
	// call it; one of them stores.
	InitSigningKeys(ctx context.Context, current, next Sealed) (bool, error)
	// RotateSigningKeys atomically retires the current key (RetiredAt = now),
	// makes the next key current (ActivatedAt = now) and stores newNext as
	// the next key. Concurrent rotations take turns. It fails with
	// ErrNoNextKey when there is no next key.
	RotateSigningKeys(ctx context.Context, newNext Sealed, now time.Time) error
	// PurgeSigningKeys deletes the keys retired before retiredBefore and
	// reports how many went.
	PurgeSigningKeys(ctx context.Context, retiredBefore time.Time) (int64, error)
}

var (
	// ErrUnknownKey means no published key has the kid asked for.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrNoNextKey means a rotation found no next key to promote.
	ErrNoNextKey = errors.New("no next signing key to rotate to")
	// ErrNoCurrentKey means nothing can be signed: the keys were never
	// initialised (Manager.Init).
	ErrNoCurrentKey = errors.New("no current signing key")
	// ErrUndecryptable means a stored key failed authentication: the master
	// key differs from the one that sealed it, or the row was altered.
	ErrUndecryptable = errors.New("signing keys cannot be decrypted: is GATEHOUSE_SECRET_KEY the one they were made with?")
)
