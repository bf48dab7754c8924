package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// NewCode returns six decimal digits drawn uniformly from crypto/rand.
func NewCode() string {
	const n = 1_000_000
	const limit = (1 << 32) / n * n // reject the top sliver so every code is equally likely
	var b [4]byte
	for {
		rand.Read(b[:])
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%n)
		}
	}
}

// CodeHasher turns codes into what is stored: HMAC-SHA256 under keys derived
// from the master key. A plain hash of a million possible codes would be
// reversed offline in a moment; without the key it cannot be.
type CodeHasher struct {
	smsKey      []byte
	recoveryKey []byte
}

// NewCodeHasher derives the hashing keys from master, 32 random bytes. A
// shorter key is a configuration mistake and panics.
func NewCodeHasher(master []byte) *CodeHasher {
	if len(master) < 32 {
		panic(fmt.Sprintf("mfa: code hasher master key is %d bytes, want 32", len(master)))
	}
	return &CodeHasher{
		smsKey:      masterkey.Derive(master, "gatehouse sms codes v1"),
		recoveryKey: masterkey.Derive(master, "gatehouse recovery codes v1"),
	}
}

// Hash binds a code to its challenge, so a hash is worthless for any other.
func (h *CodeHasher) Hash(challengeID, code string) []byte {
	return mac(h.smsKey, challengeID+":"+code)
}

// hashRecovery binds a normalized recovery code to its user.
func (h *CodeHasher) hashRecovery(userID, code string) []byte {
	return mac(h.recoveryKey, userID+":"+code)
}

// Equal compares two hashes in constant time.
func (h *CodeHasher) Equal(a, b []byte) bool { return hmac.Equal(a, b) }

// normalizeCode drops the spaces and dashes people type into a code.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// smsText is the message carrying a code, worded in the language of ctx's
// request. Its last line is the WebOTP form ("@host #code") that lets
// browsers offer the code for the page on host, the same in every language.
func (s *Service) smsText(ctx context.Context, app, code, host string) string {
	app = strings.Join(strings.Fields(app), " ")
	if r := []rune(app); len(r) > 30 {
		app = string(r[:30])
	}
	var text string
	switch {
	case s.words != nil:
		text = s.words(ctx, app, code)
	case app == "":
		text = "Your verification code is " + code
	default:
		text = "Your " + app + " verification code is " + code
	}
	if host != "" {
		text += "\n\n@" + host + " #" + code
	}
	return text
}
