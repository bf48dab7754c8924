package masterkey_test

import (
	"bytes"
	"testing"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

func TestEachPurposeGetsItsOwnKey(t *testing.T) {
	master := bytes.Repeat([]byte{7}, masterkey.Size)
	a, b := masterkey.Derive(master, "one"), masterkey.Derive(master, "two")
	if bytes.Equal(a, b) || len(a) != 32 || !bytes.Equal(a, masterkey.Derive(master, "one")) {
		t.Fatalf("Derive: %x %x", a, b)
	}
	sealed, err := masterkey.AEAD(master, "one")
	if err != nil {
		t.Fatal(err)
	}
	other, err := masterkey.AEAD(master, "two")
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, sealed.NonceSize())
	ct := sealed.Seal(nil, nonce, []byte("secret"), nil)
	if _, err := other.Open(nil, nonce, ct, nil); err == nil {
		t.Error("a key for another purpose opened the ciphertext")
	}
}

func TestAEADRefusesAMasterKeyOfTheWrongSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := masterkey.AEAD(make([]byte, n), "p"); err == nil {
			t.Errorf("a %d-byte master key was accepted", n)
		}
	}
}
