// Package masterkey derives the keys Gatehouse uses from its one master key
// (GATEHOUSE_SECRET_KEY): one key per purpose, so that a key leaked or
// misused in one place opens nothing in another.
package masterkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Size is the master key's length in bytes.
const Size = 32

// Derive returns the 32-byte key for purpose: HMAC-SHA256(master, purpose).
func Derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// AEAD returns AES-256-GCM under the key derived for purpose.
func AEAD(master []byte, purpose string) (cipher.AEAD, error) {
	if len(master) != Size {
		return nil, fmt.Errorf("master key is %d bytes, want %d", len(master), Size)
	}
	block, err := aes.NewCipher(Derive(master, purpose))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
