package clients

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewClientID returns a random client id of 32 letters and digits (about 190
// bits), shaped like Auth0's.
func NewClientID() string {
	const n = 32
	// Bytes at or above 248 (= 4*62) are skipped so every letter is equally likely.
	const limit = 256 - 256%len(idAlphabet)
	id := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(id) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(id) < n {
				id = append(id, idAlphabet[int(b)%len(idAlphabet)])
			}
		}
	}
	return string(id)
}

// NewSecret returns a new client secret (48 random bytes, 64 characters of
// base64url) and the hash to store. The plain secret is shown once and never
// stored.
func NewSecret() (plain string, hash []byte) {
	b := make([]byte, 48)
	rand.Read(b)
	plain = base64.RawURLEncoding.EncodeToString(b)
	return plain, HashSecret(plain)
}

// HashSecret returns the SHA-256 of a client secret.
func HashSecret(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// VerifySecret reports, in constant time, whether secret is the client's
// secret. A public client has no secret and never verifies.
func (c Client) VerifySecret(secret string) bool {
	if c.Public() || len(c.SecretHash) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(HashSecret(secret), c.SecretHash) == 1
}
