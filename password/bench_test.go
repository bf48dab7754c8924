package password

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

const benchPassword = "correct horse battery staple"

func BenchmarkHashOWASP(b *testing.B) {
	h := NewHasher(OWASP(), 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(context.Background(), benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h := NewHasher(OWASP(), 0)
	encoded, err := h.Hash(context.Background(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), benchPassword, encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

// BenchmarkVerifyOWASPParallel runs GOMAXPROCS verifiers through a Hasher whose semaphore has
// NumCPU slots: ns/op is wall time per verification, so 1e9/ns_op is logins per second.
func BenchmarkVerifyOWASPParallel(b *testing.B) {
	h := NewHasher(OWASP(), 0)
	encoded, err := h.Hash(context.Background(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(context.Background(), benchPassword, encoded); !ok || err != nil {
				b.Errorf("Verify = %v, %v", ok, err)
			}
		}
	})
}

func BenchmarkEqualizeOWASP(b *testing.B) {
	h := NewHasher(OWASP(), 0)
	b.ReportAllocs()
	for b.Loop() {
		h.Equalize(context.Background(), benchPassword)
	}
}

func BenchmarkVerifyBcrypt10(b *testing.B) {
	h := NewHasher(OWASP(), 0)
	encoded, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 10)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(context.Background(), benchPassword, string(encoded)); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkNewPolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewPolicy()
	}
}

func BenchmarkCheck(b *testing.B) {
	p := NewPolicy()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Check(benchPassword, "alice.smith@example.com", "Gatehouse"); err != nil {
			b.Fatal(err)
		}
	}
}
