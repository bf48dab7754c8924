package outbox

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// sealPurpose separates the key that seals messages from every other use of
// the master key.
const sealPurpose = "gatehouse sms outbox v1"

// ErrUndecryptable means a sealed message does not open under this master key,
// or was moved onto another row, or was wiped after the row finished.
var ErrUndecryptable = errors.New("outbox: sealed message does not open")

// Sealer encrypts what a row must not hold in the clear — the recipient, the
// text and the code, or a mail's link — with AES-256-GCM under a key derived from the master key.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the outbox key from the 32-byte master key.
func NewSealer(master []byte) (*Sealer, error) {
	aead, err := masterkey.AEAD(master, sealPurpose)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// secret is the part of a message that is sealed.
type secret struct {
	To     string `json:"to"`
	Text   string `json:"text"`
	Code   string `json:"code"`
	Locale string `json:"locale,omitempty"`
	// Mail only.
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// seal encrypts s under a random nonce, which it prefixes to the result. The
// row id is the additional data, so a ciphertext copied onto another row fails
// to open.
func (s *Sealer) seal(rowID string, v secret) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(rowID)), nil
}

func (s *Sealer) open(rowID string, sealed []byte) (secret, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return secret{}, fmt.Errorf("%w (message %s is empty or truncated)", ErrUndecryptable, rowID)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(rowID))
	if err != nil {
		return secret{}, fmt.Errorf("%w (message %s)", ErrUndecryptable, rowID)
	}
	var v secret
	if err := json.Unmarshal(plain, &v); err != nil {
		return secret{}, fmt.Errorf("decode message %s: %w", rowID, err)
	}
	return v, nil
}
