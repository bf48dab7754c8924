package password

import (
	"fmt"
	"strings"
)

// CheckHash tells whether encoded is a hash Verify can use: an argon2id PHC
// string, or a bcrypt hash (as an Auth0 export holds) of a cost Verify
// accepts. Imports check each hash before storing it, so that a broken one
// is reported at import time rather than as a failed login later.
func CheckHash(encoded string) error {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		_, err := parsePHC(encoded)
		return err
	case isBcrypt(encoded):
		cost, err := bcryptCost(encoded)
		if err != nil {
			return err
		}
		if cost < 4 || cost > maxBcryptCost {
			return fmt.Errorf("%w: bcrypt cost %d is outside 4–%d", ErrMalformedHash, cost, maxBcryptCost)
		}
		return nil
	}
	return fmt.Errorf("%w: not argon2id or bcrypt", ErrMalformedHash)
}
