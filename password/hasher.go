package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gatehouse-id/gatehouse/password/internal/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
}

// OWASP returns the parameters new hashes use: the OWASP Password Storage Cheat Sheet minimum for
// argon2id, 19 MiB, two passes, one lane.
func OWASP() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1}
}

// Bounds on parameters, whether given to NewHasher or read from a stored hash. A stored hash
// outside them is refused as malformed rather than allowed to allocate gigabytes or run for
// minutes.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	maxThreads = 64
)

func (p Params) check() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("threads %d outside 1..%d", p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d outside 1..%d", p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2 needs 8 KiB per lane.
		return fmt.Errorf("memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	}
	return nil
}

// A Hasher hashes and verifies passwords, at most concurrency at a time. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{}
	// memory holds the argon2id block arrays between hashes, at most one
	// per slot: a hash takes one (or starts a new one) and puts it back.
	// A login flood then reuses slots × the memory parameter instead of
	// allocating, zeroing and dropping it for every verification.
	memory chan *argon2.Memory

	dummyOnce sync.Once
	dummy     string // argon2id PHC string at params that no password matches
}

// NewHasher returns a Hasher that makes new hashes with p and runs at most concurrency hash
// computations at once; concurrency <= 0 means runtime.NumCPU(). It panics if p is outside the
// bounds Verify accepts (memory up to 1 GiB, time 1..64, threads 1..64): parameters are
// configuration, and a server must not start with parameters it would refuse to read back.
func NewHasher(p Params, concurrency int) *Hasher {
	if err := p.check(); err != nil {
		panic("password: NewHasher: " + err.Error())
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency), memory: make(chan *argon2.Memory, concurrency)}
}

// Hash returns the argon2id PHC string of the NFKC normalization of plain, with a fresh random
// salt. It fails only if ctx ends while Hash waits for a slot.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (Go 1.24+)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := h.idKey(normalize(plain), salt, h.params, keyLen)
	return phc{params: h.params, salt: salt, key: key}.String(), nil
}

// Verify checks plain against encoded, an argon2id PHC string or a bcrypt hash ($2a$, $2b$ or
// $2y$). needsRehash is true when ok and encoded is a bcrypt hash or an argon2id hash made with
// parameters other than h's; the caller should then store h.Hash(plain). A wrong password is
// ok == false with a nil error. err wraps ErrMalformedHash when encoded cannot be read, or
// ctx.Err() when ctx ends while Verify waits for a slot.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return h.verifyArgon2id(ctx, plain, encoded)
	case isBcrypt(encoded):
		ok, err := h.verifyBcrypt(ctx, plain, encoded)
		return ok, ok, err
	}
	return false, false, fmt.Errorf("%w: not argon2id or bcrypt", ErrMalformedHash)
}

func (h *Hasher) verifyArgon2id(ctx context.Context, plain, encoded string) (ok, needsRehash bool, err error) {
	stored, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	key := h.idKey(normalize(plain), stored.salt, stored.params, uint32(len(stored.key)))
	h.release()
	if subtle.ConstantTimeCompare(key, stored.key) != 1 {
		return false, false, nil
	}
	current := stored.params == h.params && len(stored.salt) == saltLen && len(stored.key) == keyLen
	return true, !current, nil
}

// Equalize spends the time of a failed Verify of an argon2id hash at h's parameters, waiting for
// a slot like Verify does. Call it when a login names an unknown account, so that answering
// "no such account" takes as long as "wrong password". It reports nothing: there is nothing to
// act on.
func (h *Hasher) Equalize(ctx context.Context, plain string) {
	h.dummyOnce.Do(func() {
		// A random key costs nothing to make, no password matches it, and verifying against it
		// does exactly the work of verifying a real hash at h's parameters.
		dummy := phc{params: h.params, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
		rand.Read(dummy.salt)
		rand.Read(dummy.key)
		h.dummy = dummy.String()
	})
	_, _, _ = h.Verify(ctx, plain, h.dummy)
}

// idKey derives in a kept block array. An array grown for a stored hash with
// a larger memory parameter than h's (an import, say) is not kept, so that the
// arrays kept stay at slots × h's memory.
func (h *Hasher) idKey(plain, salt []byte, p Params, keyLen uint32) []byte {
	var mem *argon2.Memory
	select {
	case mem = <-h.memory:
	default:
		mem = new(argon2.Memory)
	}
	key := argon2.IDKeyMemory(mem, plain, salt, p.Time, p.Memory, p.Threads, keyLen)
	if mem.Size() > int(h.params.Memory)*1024 {
		mem.Release()
		return key
	}
	select {
	case h.memory <- mem:
	default: // more arrays than slots cannot happen; were it to, drop it
		mem.Release()
	}
	return key
}

// acquire takes a hashing slot, waiting until one is free or ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("password: waiting to hash: %w", err)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting to hash: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

func normalize(plain string) []byte {
	return []byte(norm.NFKC.String(plain))
}
