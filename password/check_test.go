package password

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCheckHashAcceptsWhatVerifyCanUse(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("violet tractor meadow"), 4)
	if err != nil {
		t.Fatal(err)
	}
	argon, err := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1).Hash(context.Background(), "violet tractor meadow")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, hash string
		ok         bool
	}{
		{"bcrypt from an Auth0 export", string(b), true},
		{"bcrypt $2y$ (PHP)", "$2y$" + string(b)[4:], true},
		{"argon2id", argon, true},
		{"bcrypt cut short", string(b)[:40], false},
		{"bcrypt cost too high", "$2b$31$" + string(b)[7:], false},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf99", false},
		{"plain text", "hunter2", false},
		{"empty", "", false},
		{"argon2id garbage", "$argon2id$v=19$m=x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHash(tc.hash)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckHash = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformedHash) {
				t.Errorf("error %v does not wrap ErrMalformedHash", err)
			}
		})
	}
}
