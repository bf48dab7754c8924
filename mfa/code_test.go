package mfa_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa"
)

var master = bytes.Repeat([]byte{7}, 32)

func TestNewCodeIsSixDigits(t *testing.T) {
	six := regexp.MustCompile(`^[0-9]{6}$`)
	seen := map[string]bool{}
	for range 200 {
		c := mfa.NewCode()
		if !six.MatchString(c) {
			t.Fatalf("code %q is not six digits", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("%d distinct codes in 200, want them random", len(seen))
	}
}

func TestCodeHashIsKeyedAndBoundToTheChallenge(t *testing.T) {
	h := mfa.NewCodeHasher(master)
	a := h.Hash("challenge-1", "123456")
	if !h.Equal(a, h.Hash("challenge-1", "123456")) {
		t.Fatal("same challenge and code hash differently")
	}
	if h.Equal(a, h.Hash("challenge-2", "123456")) || h.Equal(a, h.Hash("challenge-1", "123457")) {
		t.Fatal("hash does not depend on both the challenge and the code")
	}
	if h.Equal(a, mfa.NewCodeHasher(bytes.Repeat([]byte{8}, 32)).Hash("challenge-1", "123456")) {
		t.Fatal("hash does not depend on the key")
	}
	if len(a) != 32 || bytes.Contains(a, []byte("123456")) {
		t.Fatalf("hash %x, want 32 bytes of HMAC-SHA256", a)
	}
}

func TestPhoneVault(t *testing.T) {
	v, err := mfa.NewPhoneVault(master)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := v.Seal("+447400123456")
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Seal("+447400123456")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed, again) || bytes.Contains(sealed, []byte("7400123456")) {
		t.Fatal("sealing is not randomized encryption")
	}
	if got, err := v.Open(sealed); err != nil || got != "+447400123456" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 1
		if _, err := v.Open(tampered); err != mfa.ErrSealedPhone {
			t.Fatalf("byte %d flipped: %v, want ErrSealedPhone", i, err)
		}
	}
	for _, short := range [][]byte{nil, sealed[:12], sealed[:len(sealed)-1]} {
		if _, err := v.Open(short); err != mfa.ErrSealedPhone {
			t.Fatalf("truncated to %d bytes: %v, want ErrSealedPhone", len(short), err)
		}
	}
	other, err := mfa.NewPhoneVault(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed); err != mfa.ErrSealedPhone {
		t.Fatalf("other key: %v, want ErrSealedPhone", err)
	}

	l := v.Lookup("+447400123456")
	if !bytes.Equal(l, v.Lookup("+447400123456")) || len(l) != 32 {
		t.Fatal("lookup is not deterministic")
	}
	if bytes.Equal(l, v.Lookup("+447400123457")) || bytes.Equal(l, other.Lookup("+447400123456")) {
		t.Fatal("lookup does not depend on the number and the key")
	}
	if _, err := mfa.NewPhoneVault(master[:16]); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
}

func TestRecoveryCodeFormat(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	codes, err := f.svc.IssueRecoveryCodes(ctx, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !format.MatchString(c) || strings.ContainsAny(c, "01OIL") {
			t.Fatalf("code %q, want XXXX-XXXX-XXXX from the unambiguous alphabet", c)
		}
		seen[c] = true
	}
	if len(seen) != 10 {
		t.Fatalf("%d distinct codes, want 10", len(seen))
	}
}
