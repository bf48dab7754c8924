package assurance

import (
	"context"

	"github.com/gatehouse-id/gatehouse/mfa"
)

// The factors package mfa carries out, seen through the Factor interface.

// Enabler reports whether the admin has a factor kind turned on now.
type Enabler func(ctx context.Context) (bool, error)

func always(context.Context) (bool, error) { return true, nil }

type appFactor struct{ m *mfa.Service }

// AppFactor is the authenticator app (TOTP), always on where the service
// has a TOTP vault.
func AppFactor(m *mfa.Service) Factor { return appFactor{m} }

func (appFactor) Kind() Kind                                  { return KindApp }
func (f appFactor) Enabled(ctx context.Context) (bool, error) { return f.m.TOTPAvailable(), nil }
func (f appFactor) Enrolled(ctx context.Context, userID string) (bool, error) {
	return f.m.HasTOTP(ctx, userID)
}

type phoneFactor struct {
	m       *mfa.Service
	enabled Enabler
}

// PhoneFactor is the verified phone, usable while enabled says the admin's
// Phone Message switch is on (nil: always).
func PhoneFactor(m *mfa.Service, enabled Enabler) Factor {
	if enabled == nil {
		enabled = always
	}
	return phoneFactor{m, enabled}
}

func (phoneFactor) Kind() Kind                                  { return KindPhone }
func (f phoneFactor) Enabled(ctx context.Context) (bool, error) { return f.enabled(ctx) }
func (f phoneFactor) Enrolled(ctx context.Context, userID string) (bool, error) {
	_, ok, err := f.m.Factor(ctx, userID)
	return ok, err
}

type recoveryFactor struct{ m *mfa.Service }

// RecoveryCodes are the single-use codes issued with a phone: a way through
// a challenge when the phone is lost, never a factor of their own.
func RecoveryCodes(m *mfa.Service) Factor { return recoveryFactor{m} }

func (recoveryFactor) Kind() Kind                            { return KindRecovery }
func (recoveryFactor) Enabled(context.Context) (bool, error) { return true, nil }
func (f recoveryFactor) Enrolled(ctx context.Context, userID string) (bool, error) {
	n, err := f.m.RecoveryCodesLeft(ctx, userID)
	return n > 0, err
}

// Holder reports whether a user holds a kind of credential.
type Holder interface {
	Has(ctx context.Context, userID string) (bool, error)
}

type passkeyFactor struct {
	keys    Holder
	enabled Enabler
}

// PasskeyFactor is the user's passkeys, usable while enabled says the admin
// has passkeys on (nil: always).
func PasskeyFactor(keys Holder, enabled Enabler) Factor {
	if enabled == nil {
		enabled = always
	}
	return passkeyFactor{keys, enabled}
}

func (passkeyFactor) Kind() Kind                                  { return KindPasskey }
func (f passkeyFactor) Enabled(ctx context.Context) (bool, error) { return f.enabled(ctx) }
func (f passkeyFactor) Enrolled(ctx context.Context, userID string) (bool, error) {
	return f.keys.Has(ctx, userID)
}

// Standard is the factors in the order they are offered: the authenticator
// app first (it costs no text message), then the phone, then recovery codes.
func Standard(m *mfa.Service, phoneEnabled Enabler) []Factor {
	return []Factor{AppFactor(m), PhoneFactor(m, phoneEnabled), RecoveryCodes(m)}
}

// WithPasskeys is the standard factors with passkeys offered first: they
// cost nothing to send and cannot be phished.
func WithPasskeys(keys Holder, enabled Enabler, standard []Factor) []Factor {
	return append([]Factor{PasskeyFactor(keys, enabled)}, standard...)
}
