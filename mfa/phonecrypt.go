package mfa

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// ErrSealedPhone means a sealed phone number could not be opened: wrong key or
// altered bytes.
var ErrSealedPhone = errors.New("sealed phone number cannot be opened")

// PhoneVault keeps phone numbers unreadable at rest. Seal encrypts with
// AES-256-GCM for the cases that need the number back (sending a code); Lookup
// gives a keyed hash for equality (is this the enrolled number? how many codes
// went to it?) without decrypting. Both keys derive from one master key.
type PhoneVault struct {
	aead      cipher.AEAD
	lookupKey []byte
}

var phoneAAD = []byte("phone")

// NewPhoneVault derives the vault's keys from master, 32 random bytes.
func NewPhoneVault(master []byte) (*PhoneVault, error) {
	aead, err := masterkey.AEAD(master, "gatehouse phone numbers v1")
	if err != nil {
		return nil, fmt.Errorf("phone vault: %w", err)
	}
	return &PhoneVault{aead: aead, lookupKey: masterkey.Derive(master, "gatehouse phone lookup v1")}, nil
}

// Seal encrypts e164 under a random nonce, which prefixes the result.
func (v *PhoneVault) Seal(e164 string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(e164)+v.aead.Overhead())
	rand.Read(nonce)
	return v.aead.Seal(nonce, nonce, []byte(e164), phoneAAD), nil
}

// Open returns the number Seal encrypted, or ErrSealedPhone.
func (v *PhoneVault) Open(sealed []byte) (string, error) {
	n := v.aead.NonceSize()
	if len(sealed) < n+v.aead.Overhead() {
		return "", ErrSealedPhone
	}
	plain, err := v.aead.Open(nil, sealed[:n], sealed[n:], phoneAAD)
	if err != nil {
		return "", ErrSealedPhone
	}
	return string(plain), nil
}

// Lookup is HMAC-SHA256 of the E.164 number: the same number always gives the
// same 32 bytes, which say nothing about it without the key.
func (v *PhoneVault) Lookup(e164 string) []byte {
	return mac(v.lookupKey, e164)
}

// mac is HMAC-SHA256, the same function that derives keys.
func mac(key []byte, msg string) []byte { return masterkey.Derive(key, msg) }
