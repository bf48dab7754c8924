package settings

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// sealPurpose separates the key that seals provider secrets from every other
// use of the master key.
const sealPurpose = "gatehouse settings secrets v1"

type sealer struct{ aead cipher.AEAD }

func newSealer(master []byte) (*sealer, error) {
	aead, err := masterkey.AEAD(master, sealPurpose)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts v under a random nonce; the key is the additional data, so a
// sealed value copied onto another setting fails to open.
func (s *sealer) seal(key, v string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(v)+s.aead.Overhead())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(v), []byte(key))), nil
}

func (s *sealer) open(key, sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	n := s.aead.NonceSize()
	if err != nil || len(b) < n {
		return "", errors.New("settings: sealed value is malformed")
	}
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(key))
	if err != nil {
		return "", errors.New("settings: sealed value does not open under this master key")
	}
	return string(plain), nil
}
