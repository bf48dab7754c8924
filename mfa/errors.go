package mfa

import (
	"errors"
	"time"
)

// Errors a caller can act on. Their text is for logs; the server chooses the
// words a person sees (PhoneError's Message excepted).
var (
	ErrChallengeNotFound   = errors.New("mfa challenge not found")
	ErrChallengeEnded      = errors.New("too many wrong codes: the challenge has ended")
	ErrCodeExpired         = errors.New("the code has expired")
	ErrCodeUsed            = errors.New("the code has already been used")
	ErrWrongCode           = errors.New("wrong code")
	ErrMFALocked           = errors.New("too many failed MFA attempts: try again later")
	ErrAccountLocked       = errors.New("too many failed MFA attempts: the account is locked until an administrator resets MFA")
	ErrNotEnrolled         = errors.New("no verified phone for this user")
	ErrPhoneNotEnrolled    = errors.New("the phone is not the user's verified phone")
	ErrNotVerified         = errors.New("no passed enrollment challenge for this phone")
	ErrInvalidRecoveryCode = errors.New("wrong or used recovery code")
	ErrInvalidRequest      = errors.New("invalid mfa request")
	ErrPhoneOff            = errors.New("the Phone Message factor is turned off")
)

// WrongCodeError is a wrong code on a challenge that stays open for Remaining
// more tries. It matches ErrWrongCode.
type WrongCodeError struct{ Remaining int }

func (e *WrongCodeError) Error() string        { return "wrong code" }
func (e *WrongCodeError) Is(target error) bool { return target == ErrWrongCode }

// LockedError says the user's MFA is locked after too many consecutive
// failures until Until. It matches ErrMFALocked.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string        { return ErrMFALocked.Error() }
func (e *LockedError) Is(target error) bool { return target == ErrMFALocked }

// LimitError says an anti-fraud limit refused a send: Limit is one of the
// Limit… names ("phone", "ip", "user", "country", "global",
// "global_enroll"); sending may work again at RetryAt.
type LimitError struct {
	Limit   string
	RetryAt time.Time
}

func (e *LimitError) Error() string { return "too many codes sent (" + e.Limit + " limit)" }

// CooldownError refuses a resend that comes too soon after the last send.
type CooldownError struct{ RetryAt time.Time }

func (e *CooldownError) Error() string { return "a code was sent moments ago" }
