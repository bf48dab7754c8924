package mfa

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/netip"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/masterkey"
)

// The authenticator-app factor (TOTP, RFC 6238): a secret shared with an app
// on the user's device, which shows a 6-digit code that changes every 30
// seconds.
//
//	BeginTOTP ─► pending secret (10 min), shown as text and QR code
//	ConfirmTOTP(code from the app) ─► the user's one active authenticator
//	VerifyTOTP ─► right code of a step later than the last used one: passed
//	           ├─ step already used (or older) ─► ErrTOTPReplayed, nothing counted
//	           └─ wrong ─► user failures+1, as a wrong SMS code

// Audit events of authenticator apps. Passing a challenge with one is
// EventChallengePassed with details.factor "totp".
const (
	EventTOTPEnrolled = "mfa.totp_enrolled"
	EventTOTPRemoved  = "mfa.totp_removed"
)

var (
	ErrNoPendingTOTP   = errors.New("no pending authenticator app setup")
	ErrTOTPNotEnrolled = errors.New("no authenticator app for this user")
	ErrWrongTOTP       = errors.New("wrong authenticator app code")
	ErrTOTPReplayed    = errors.New("the authenticator app code has already been used")
	ErrSealedTOTP      = errors.New("sealed authenticator secret cannot be opened")
)

const (
	totpPeriod     = 30
	totpSecretSize = 20
	totpPendingFor = 10 * time.Minute
	maxQRCodeSize  = 1024
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPSetup is what the user needs to add the authenticator to an app: Secret
// (base32) to type in, or URI (otpauth://) to scan as a QR code.
type TOTPSetup struct {
	Secret string
	URI    string
}

// TOTPs stores authenticator secrets, sealed: at most one pending setup per
// user and setup (the session that began it), and one active authenticator
// per user.
type TOTPs interface {
	// PutPendingTOTP replaces any pending setup of the user with this id.
	PutPendingTOTP(ctx context.Context, userID, setupID string, sealedSecret []byte, expiresAt time.Time) error
	// PendingTOTP returns the unexpired pending secret or ErrNoPendingTOTP.
	PendingTOTP(ctx context.Context, userID, setupID string, now time.Time) ([]byte, error)
	// ActivateTOTP makes the setup's pending secret, if it is still
	// sealedSecret and unexpired, the user's authenticator (replacing any),
	// with usedStep as its last used step; otherwise it answers
	// ErrNoPendingTOTP.
	ActivateTOTP(ctx context.Context, userID, setupID string, sealedSecret []byte, now time.Time, usedStep int64) error
	// ActiveTOTP returns the user's authenticator or ErrTOTPNotEnrolled.
	ActiveTOTP(ctx context.Context, userID string) (sealed []byte, lastStep int64, err error)
	// UseTOTPStep records step as used if it is later than the last used
	// one, and reports whether it was; of concurrent callers with one step,
	// exactly one gets true.
	UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error)
	// DeleteTOTP removes the user's authenticator and pending setup, if any.
	DeleteTOTP(ctx context.Context, userID string) error
}

// TOTPVault keeps authenticator secrets unreadable at rest: AES-256-GCM under
// a key derived from the master key, bound to the user, so a sealed secret
// copied to another user's row does not open.
type TOTPVault struct {
	aead cipher.AEAD
}

// NewTOTPVault derives the vault's key from master, 32 random bytes.
func NewTOTPVault(master []byte) (*TOTPVault, error) {
	aead, err := masterkey.AEAD(master, "gatehouse totp v1")
	if err != nil {
		return nil, fmt.Errorf("totp vault: %w", err)
	}
	return &TOTPVault{aead: aead}, nil
}

func (v *TOTPVault) seal(userID, secret string) []byte {
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(secret)+v.aead.Overhead())
	rand.Read(nonce)
	return v.aead.Seal(nonce, nonce, []byte(secret), []byte("totp:"+userID))
}

func (v *TOTPVault) open(userID string, sealed []byte) (string, error) {
	n := v.aead.NonceSize()
	if len(sealed) < n+v.aead.Overhead() {
		return "", ErrSealedTOTP
	}
	plain, err := v.aead.Open(nil, sealed[:n], sealed[n:], []byte("totp:"+userID))
	if err != nil {
		return "", ErrSealedTOTP
	}
	return string(plain), nil
}

var errTOTPOff = fmt.Errorf("%w: authenticator apps are not configured", ErrInvalidRequest)

// BeginTOTP makes a new secret for the user and keeps it pending, for ten
// minutes, until ConfirmTOTP. setupID names who may see and confirm it (the
// browser session that began it): another session of the same user never
// can. accountName (the user's email) and issuer (the server's name) label
// the entry in the app.
func (s *Service) BeginTOTP(ctx context.Context, userID, setupID, accountName, issuer string) (TOTPSetup, error) {
	if s.totp == nil {
		return TOTPSetup{}, errTOTPOff
	}
	key, err := totpKey(accountName, issuer, nil)
	if err != nil {
		return TOTPSetup{}, err
	}
	sealed := s.totp.seal(userID, key.Secret())
	if setupID == "" {
		return TOTPSetup{}, fmt.Errorf("%w: no setup id", ErrInvalidRequest)
	}
	if err := s.store.PutPendingTOTP(ctx, userID, setupID, sealed, s.now().Add(totpPendingFor)); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: key.Secret(), URI: key.URL()}, nil
}

// TOTPQRCode draws the pending secret's otpauth URI as a size×size PNG.
func (s *Service) TOTPQRCode(ctx context.Context, userID, setupID, accountName, issuer string, size int) ([]byte, error) {
	if s.totp == nil {
		return nil, errTOTPOff
	}
	if size <= 0 || size > maxQRCodeSize {
		return nil, fmt.Errorf("%w: QR code size %d", ErrInvalidRequest, size)
	}
	secret, _, err := s.pendingTOTP(ctx, userID, setupID)
	if err != nil {
		return nil, err
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, ErrSealedTOTP
	}
	key, err := totpKey(accountName, issuer, raw)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("%w: QR code: %v", ErrInvalidRequest, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// ConfirmTOTP makes the setup's pending secret the user's authenticator once
// code, from the app, proves the app holds it. The code's step counts as
// used. firstOnly is set when the assurance authority admitted this as a
// first enrollment: it then holds only while the user still has no factor
// (ErrFactorExists), checked under the user's lock.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, setupID, code string, firstOnly bool) error {
	if s.totp == nil {
		return errTOTPOff
	}
	secret, sealed, err := s.pendingTOTP(ctx, userID, setupID)
	if err != nil {
		return err
	}
	now := s.now()
	step, ok := matchTOTP(secret, code, now)
	if !ok {
		return ErrWrongTOTP
	}
	err = s.enrollLocked(ctx, userID, firstOnly, func(ctx context.Context) error {
		return s.store.ActivateTOTP(ctx, userID, setupID, sealed, now, step)
	})
	if err != nil {
		return err
	}
	s.record(ctx, account.Event{Type: EventTOTPEnrolled, UserID: userID})
	return nil
}

// HasTOTP reports whether the user has an active authenticator.
func (s *Service) HasTOTP(ctx context.Context, userID string) (bool, error) {
	_, _, err := s.store.ActiveTOTP(ctx, userID)
	if errors.Is(err, ErrTOTPNotEnrolled) {
		return false, nil
	}
	return err == nil, err
}

// VerifyTOTP checks a code from the user's authenticator, accepting the
// current step and one either side for clock drift. Each step is accepted
// once, and never one before the last accepted. A wrong code counts toward
// the user's MFA lock as a wrong SMS code does; a locked user is refused.
func (s *Service) VerifyTOTP(ctx context.Context, userID, code string) error {
	if s.totp == nil {
		return errTOTPOff
	}
	now := s.now()
	var used, wrong bool
	var lock error
	var consecutive int
	err := s.serialized(ctx, userID, "verify_totp", func(ctx context.Context) error {
		sealed, last, err := s.store.ActiveTOTP(ctx, userID)
		if err != nil {
			return err
		}
		secret, err := s.totp.open(userID, sealed)
		if err != nil {
			return err
		}
		step, ok := matchTOTP(secret, code, now)
		if !ok {
			wrong = true
			lock, consecutive, err = s.addFailure(ctx, userID, now)
			return err
		}
		if step <= last {
			return nil
		}
		if used, err = s.store.UseTOTPStep(ctx, userID, step); err != nil || !used {
			return err
		}
		return s.store.ClearMFAFailures(ctx, userID)
	})
	switch {
	case err != nil:
		return err
	case wrong:
		s.record(ctx, account.Event{Type: EventChallengeFailed, UserID: userID,
			Details: map[string]any{"factor": "totp", "consecutive_failures": consecutive}})
		if lock != nil {
			s.record(ctx, lockEvent(userID, "verify_totp", netip.Addr{}, lock, consecutive))
			return lock
		}
		return ErrWrongTOTP
	case !used:
		s.record(ctx, account.Event{Type: EventChallengeFailed, UserID: userID,
			Details: map[string]any{"factor": "totp", "reason": "replayed"}})
		return ErrTOTPReplayed
	}
	s.record(ctx, account.Event{Type: EventChallengePassed, UserID: userID,
		Details: map[string]any{"factor": "totp", "amr": []string{"otp"}}})
	return nil
}

// RemoveTOTP removes the user's authenticator and any pending setup; without
// an authenticator it answers ErrTOTPNotEnrolled. Removing the last factor
// removes the recovery codes too.
func (s *Service) RemoveTOTP(ctx context.Context, userID string) error {
	removed, codesGone, err := s.removeFactor(ctx, userID, func(ctx context.Context) (bool, error) {
		had, err := s.HasTOTP(ctx, userID)
		if err != nil {
			return false, err
		}
		return had, s.store.DeleteTOTP(ctx, userID)
	})
	if err != nil {
		return err
	}
	if !removed {
		return ErrTOTPNotEnrolled
	}
	s.record(ctx, account.Event{Type: EventTOTPRemoved, UserID: userID,
		Details: map[string]any{"recovery_codes_removed": codesGone}})
	return nil
}

// pendingTOTP returns the setup's pending secret, opened and sealed.
func (s *Service) pendingTOTP(ctx context.Context, userID, setupID string) (string, []byte, error) {
	sealed, err := s.store.PendingTOTP(ctx, userID, setupID, s.now())
	if err != nil {
		return "", nil, err
	}
	secret, err := s.totp.open(userID, sealed)
	if err != nil {
		return "", nil, err
	}
	return secret, sealed, nil
}

// totpKey makes the app's key for secret, or for a new random one when secret
// is nil.
func totpKey(accountName, issuer string, secret []byte) (*otp.Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: accountName, Period: totpPeriod, SecretSize: totpSecretSize,
		Secret: secret, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	return key, nil
}

// matchTOTP returns the step, among the current one and one either side, whose
// code is code. All three are computed and compared in constant time.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	got := []byte(normalizeCode(code))
	cur := now.Unix() / totpPeriod
	for st := cur - 1; st <= cur+1; st++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(st*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), got) == 1 {
			step, ok = st, true
		}
	}
	return step, ok
}

// TOTPAvailable reports whether authenticator apps can be used at all.
func (s *Service) TOTPAvailable() bool { return s.totp != nil }
