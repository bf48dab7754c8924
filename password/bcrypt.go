package password

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

const (
	// bcryptLen is the length of every bcrypt hash: "$2b$" + 2-digit cost + "$" + 53 characters.
	bcryptLen = 60
	// bcryptMaxInput is bcrypt's input limit. bcrypt ignores bytes beyond it; we refuse to match
	// them instead, so a long password is never accepted on its first 72 bytes.
	bcryptMaxInput = 72
	// maxBcryptCost bounds stored costs: each step doubles the time, and cost 10 takes
	// 50-75 ms on our hosts, so 16 is 3-5 s. Anything higher is refused as malformed.
	maxBcryptCost = 16
)

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") ||
		strings.HasPrefix(encoded, "$2y$")
}

// verifyBcrypt checks plain's raw bytes against a bcrypt hash. $2y$ (PHP's name for $2b$) works
// because x/crypto's bcrypt recomputes the hash with the stored prefix.
func (h *Hasher) verifyBcrypt(ctx context.Context, plain, encoded string) (bool, error) {
	cost, err := bcryptCost(encoded)
	if err != nil {
		return false, err
	}
	if cost > maxBcryptCost {
		return false, malformed(fmt.Sprintf("bcrypt cost %d above %d", cost, maxBcryptCost))
	}
	if len(plain) > bcryptMaxInput {
		return false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(plain))
	h.release()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: %v", ErrMalformedHash, err)
}

// bcryptCost checks the shape of a bcrypt hash, "$2b$" + two-digit cost + "$" + 53 characters of
// bcrypt's base64 alphabet, and returns its cost.
func bcryptCost(encoded string) (int, error) {
	if len(encoded) != bcryptLen || encoded[6] != '$' {
		return 0, malformed("not a bcrypt hash")
	}
	tens, units := encoded[4], encoded[5]
	if tens < '0' || tens > '9' || units < '0' || units > '9' {
		return 0, malformed("bcrypt cost is not two digits")
	}
	for _, c := range encoded[7:] {
		if !strings.ContainsRune(bcryptAlphabet, c) {
			return 0, malformed("bcrypt salt or hash is not bcrypt base64")
		}
	}
	return int(tens-'0')*10 + int(units-'0'), nil
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
