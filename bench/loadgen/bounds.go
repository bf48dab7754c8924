package loadgen

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-id/gatehouse/password"
	"golang.org/x/crypto/bcrypt"
)

// Bounds are what this machine's cores can do of the crypto a login and a
// refresh cannot avoid, all cores busy with nothing else.
//
// Each primitive runs on every core for a while and is measured twice: by
// the wall clock (operations per second) and by the CPU time this process
// spent (core time per operation). On an idle machine the two agree:
// rate = cores / core time. When other processes share the cores the wall
// clock rate drops with whatever share they took, while the core time per
// operation moves much less (shared caches and sibling hyperthreads still
// slow it), so the bounds used for the ratios are cores / core time: close to
// what the cores would do with nothing else running.
type Bounds struct {
	Cores         int
	Argon2PerSec  float64 // argon2id verifications at password.OWASP(), Gatehouse's parameters: cores / Argon2CPU
	RSASignPerSec float64 // RSA-2048 PKCS#1 v1.5 SHA-256 signatures (RS256): cores / RSASignCPU
	Argon2CPU     time.Duration
	RSASignCPU    time.Duration
	Argon2Wall    float64 // verifications per second by the wall clock
	RSASignWall   float64 // signatures per second by the wall clock
	Load          string  // /proc/loadavg when measured
}

// LoginBound is the most logins per second the crypto allows: one argon2id
// verification and sigs RS256 signatures each.
func (b Bounds) LoginBound(sigs float64) float64 {
	if b.Argon2PerSec == 0 || b.RSASignPerSec == 0 {
		return 0
	}
	return 1 / (1/b.Argon2PerSec + sigs/b.RSASignPerSec)
}

// PasswordBound is the most password checks per second.
func (b Bounds) PasswordBound() float64 { return b.Argon2PerSec }

// RefreshBound is the most refresh grants per second when each signs sigs
// tokens.
func (b Bounds) RefreshBound(sigs float64) float64 {
	if sigs == 0 {
		return 0
	}
	return b.RSASignPerSec / sigs
}

// MeasureBounds runs each primitive on every core for d.
func MeasureBounds(ctx context.Context, d time.Duration) (Bounds, error) {
	b := Bounds{Cores: runtime.GOMAXPROCS(0), Load: loadavg()}
	hasher := password.NewHasher(password.OWASP(), b.Cores)
	const pw = "correct horse battery staple"
	encoded, err := hasher.Hash(ctx, pw)
	if err != nil {
		return b, fmt.Errorf("argon2id bound: %w", err)
	}
	var verifyErr atomic.Value
	b.Argon2Wall, b.Argon2CPU = onAllCores(b.Cores, d, func() {
		if ok, _, err := hasher.Verify(ctx, pw, encoded); err != nil || !ok {
			verifyErr.Store(fmt.Errorf("argon2id bound: verify = %v, %v", ok, err))
		}
	})
	if err, _ := verifyErr.Load().(error); err != nil {
		return b, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return b, fmt.Errorf("rsa bound: %w", err)
	}
	var signErr atomic.Value
	b.RSASignWall, b.RSASignCPU = onAllCores(b.Cores, d, func() {
		// A JWT's signing input differs every time; so does this digest.
		var msg [64]byte
		rand.Read(msg[:])
		sum := sha256.Sum256(msg[:])
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
			signErr.Store(fmt.Errorf("rsa bound: %w", err))
		}
	})
	if err, _ := signErr.Load().(error); err != nil {
		return b, err
	}
	b.Argon2PerSec = float64(b.Cores) / b.Argon2CPU.Seconds()
	b.RSASignPerSec = float64(b.Cores) / b.RSASignCPU.Seconds()
	return b, ctx.Err()
}

// onAllCores runs op on n goroutines for about d and returns operations per
// second and this process's CPU time per operation.
func onAllCores(n int, d time.Duration, op func()) (float64, time.Duration) {
	var count atomic.Int64
	var wg sync.WaitGroup
	cpu0, _ := ProcCPU(0)
	start := time.Now()
	until := start.Add(d)
	for range n {
		wg.Go(func() {
			for time.Now().Before(until) {
				op()
				count.Add(1)
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, _ := ProcCPU(0)
	ops := count.Load()
	return float64(ops) / wall.Seconds(), (cpu1 - cpu0) / time.Duration(ops)
}

// MeasureBcrypt is the core time of one bcrypt verification at cost, all
// cores busy for d: the hash of servers that store bcrypt (Dex's default is
// cost 10), for their password-only logins' bound.
func MeasureBcrypt(ctx context.Context, cost int, d time.Duration) (time.Duration, error) {
	const pw = "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return 0, fmt.Errorf("bcrypt bound: %w", err)
	}
	var verifyErr atomic.Value
	_, cpu := onAllCores(runtime.GOMAXPROCS(0), d, func() {
		if err := bcrypt.CompareHashAndPassword(hash, []byte(pw)); err != nil {
			verifyErr.Store(fmt.Errorf("bcrypt bound: %w", err))
		}
	})
	if err, _ := verifyErr.Load().(error); err != nil {
		return 0, err
	}
	return cpu, ctx.Err()
}
