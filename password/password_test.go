package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// testParams keep argon2id cheap so that tests under -race stay fast.
var testParams = Params{Memory: 64, Time: 1, Threads: 1}

func mustHash(t *testing.T, h *Hasher, plain string) string {
	t.Helper()
	encoded, err := h.Hash(context.Background(), plain)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return encoded
}

func testKey(plain string, salt []byte, length uint32) []byte {
	return argon2.IDKey(normalize(plain), salt, testParams.Time, testParams.Memory, testParams.Threads, length)
}

func TestHashThenVerify(t *testing.T) {
	h := NewHasher(testParams, 2)
	for _, plain := range []string{
		"correct horse battery staple",
		"",
		"pässwörd mit ümlauten",
		"密码是一个秘密",
		strings.Repeat("long ", 100),
	} {
		encoded := mustHash(t, h, plain)

		ok, rehash, err := h.Verify(context.Background(), plain, encoded)
		if !ok || rehash || err != nil {
			t.Errorf("Verify(%q, own hash) = %v, %v, %v; want true, false, nil", plain, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(context.Background(), plain+"x", encoded)
		if ok || rehash || err != nil {
			t.Errorf("Verify(wrong password for %q) = %v, %v, %v; want false, false, nil", plain, ok, rehash, err)
		}
	}
}

func TestHashUsesAFreshSaltEachTime(t *testing.T) {
	h := NewHasher(testParams, 1)
	if a, b := mustHash(t, h, "same password"), mustHash(t, h, "same password"); a == b {
		t.Errorf("two hashes of the same password are equal: %s", a)
	}
}

func TestHashWritesOWASPParamsInPHCFormatAndReadsThemBack(t *testing.T) {
	h := NewHasher(OWASP(), 1)
	encoded := mustHash(t, h, "correct horse battery staple")

	// 16-byte salt and 32-byte key in unpadded standard base64.
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(encoded) {
		t.Fatalf("Hash = %q; want the PHC format %s", encoded, format)
	}
	stored, err := parsePHC(encoded)
	if err != nil {
		t.Fatalf("parsePHC(%q): %v", encoded, err)
	}
	if stored.params != OWASP() || len(stored.salt) != 16 || len(stored.key) != 32 {
		t.Errorf("parsed params %+v, salt %d bytes, key %d bytes; want %+v, 16, 32",
			stored.params, len(stored.salt), len(stored.key), OWASP())
	}
	if stored.String() != encoded {
		t.Errorf("re-encoded %q; want %q", stored.String(), encoded)
	}
	ok, rehash, err := h.Verify(context.Background(), "correct horse battery staple", encoded)
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestVerifyReportsRehashWhenStoredParamsDiffer(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stored     Params
		wantRehash bool
	}{
		{"same params", testParams, false},
		{"less memory", Params{Memory: 32, Time: 1, Threads: 1}, true},
		{"more memory", Params{Memory: 128, Time: 1, Threads: 1}, true},
		{"more time", Params{Memory: 64, Time: 2, Threads: 1}, true},
		{"more threads", Params{Memory: 64, Time: 1, Threads: 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			encoded := mustHash(t, NewHasher(tc.stored, 1), "correct horse battery staple")

			ok, rehash, err := NewHasher(testParams, 1).Verify(context.Background(), "correct horse battery staple", encoded)
			if !ok || rehash != tc.wantRehash || err != nil {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tc.wantRehash)
			}
		})
	}
}

func TestVerifyAcceptsOtherSaltAndKeyLengthsAndAsksForRehash(t *testing.T) {
	stored := phc{params: testParams, salt: []byte("eight by"), key: nil}
	stored.key = testKey("correct horse battery staple", stored.salt, 64)
	ok, rehash, err := NewHasher(testParams, 1).Verify(context.Background(), "correct horse battery staple", stored.String())
	if !ok || !rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	const plain = "correct horse battery staple"
	generated, err := bcrypt.GenerateFromPassword([]byte(plain), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(generated), "$2a$") {
		t.Fatalf("bcrypt generated %q; the test rewrites a $2a$ prefix", generated)
	}
	h := NewHasher(testParams, 1)
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			encoded := prefix + string(generated[4:])

			ok, rehash, err := h.Verify(context.Background(), plain, encoded)
			if !ok || !rehash || err != nil {
				t.Errorf("Verify(right password) = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			ok, rehash, err = h.Verify(context.Background(), plain+"x", encoded)
			if ok || rehash || err != nil {
				t.Errorf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestVerifyBcryptUsesRawBytes(t *testing.T) {
	generated, err := bcrypt.GenerateFromPassword([]byte("ﬁnal answer"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(testParams, 1)
	if ok, _, err := h.Verify(context.Background(), "ﬁnal answer", string(generated)); !ok || err != nil {
		t.Errorf("Verify(same bytes) = %v, %v; want true, nil", ok, err)
	}
	if ok, _, err := h.Verify(context.Background(), "final answer", string(generated)); ok || err != nil {
		t.Errorf("Verify(NFKC equivalent, other bytes) = %v, %v; want false, nil", ok, err)
	}
}

func TestVerifyBcryptNeverMatchesPasswordsOver72Bytes(t *testing.T) {
	at72 := strings.Repeat("a", 72)
	generated, err := bcrypt.GenerateFromPassword([]byte(at72), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(testParams, 1)
	for _, tc := range []struct {
		name   string
		plain  string
		wantOK bool
	}{
		{"72 bytes", at72, true},
		// bcrypt itself would ignore the 73rd byte and match.
		{"73 bytes sharing the first 72", at72 + "a", false},
		{"300 bytes", strings.Repeat("a", 300), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, _, err := h.Verify(context.Background(), tc.plain, string(generated))
			if ok != tc.wantOK || err != nil {
				t.Errorf("Verify = %v, %v; want %v, nil", ok, err, tc.wantOK)
			}
		})
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	h := NewHasher(testParams, 1)
	valid := mustHash(t, h, "correct horse battery staple")
	parts := strings.Split(valid, "$") // "", argon2id, v=19, m=64,t=1,p=1, salt, key
	salt, key := parts[4], parts[5]
	bcryptValid, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bcryptRest := string(bcryptValid[7:])

	for _, tc := range []struct{ name, encoded string }{
		{"empty", ""},
		{"garbage", "hunter2"},
		{"plain sha256 hex", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"},
		{"argon2id prefix only", "$argon2id$"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"truncated after params", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"truncated key", valid[:len(valid)-30]},
		{"trailing field", valid + "$extra"},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!!!!!!!!!!!!!!!!!!!$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"memory 4 GiB", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key},
		{"memory just over 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"memory below 8 KiB per lane", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"absurd time", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads overflow uint8", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"bcrypt truncated", string(bcryptValid[:40])},
		{"bcrypt unknown variant", "$2x$04$" + bcryptRest},
		{"bcrypt without variant", "$2$04$" + bcryptRest},
		{"bcrypt cost not digits", "$2b$1x$" + bcryptRest},
		{"bcrypt cost 31", "$2b$31$" + bcryptRest},
		{"bcrypt cost 3", "$2b$03$" + bcryptRest},
		{"bcrypt bad alphabet", "$2b$04$" + strings.Repeat("!", 53)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "correct horse battery staple", tc.encoded)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) = %v, %v, %v; want false, false, ErrMalformedHash", tc.encoded, ok, rehash, err)
			}
		})
	}
}

func TestVerifyAcceptsNFKCEquivalentInput(t *testing.T) {
	h := NewHasher(testParams, 1)
	for _, tc := range []struct{ name, hashed, typed string }{
		{"precomposed and combining accent", "caf\u00e9 au lait", "cafe\u0301 au lait"},
		{"ligature", "\ufb01nal answer", "final answer"},
		{"full-width", "Ａｌｉｃｅ１２３４", "Alice1234"},
		{"angstrom sign", "\u212b ngstr\u00f6m", "\u00c5 ngstr\u00f6m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			encoded := mustHash(t, h, tc.hashed)
			if ok, _, err := h.Verify(context.Background(), tc.typed, encoded); !ok || err != nil {
				t.Errorf("Verify(%q) against hash of %q = %v, %v; want true, nil", tc.typed, tc.hashed, ok, err)
			}
		})
	}
}

func TestEqualizeVerifiesAgainstAnUnmatchableHashAtTheHashersParams(t *testing.T) {
	h := NewHasher(testParams, 1)
	h.Equalize(context.Background(), "whatever was typed")

	stored, err := parsePHC(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash %q: %v", h.dummy, err)
	}
	if stored.params != testParams || len(stored.salt) != saltLen || len(stored.key) != keyLen {
		t.Errorf("dummy hash %q; want params %+v, %d-byte salt, %d-byte key", h.dummy, testParams, saltLen, keyLen)
	}
	first := h.dummy
	h.Equalize(context.Background(), "")
	if h.dummy != first {
		t.Errorf("dummy hash changed between calls")
	}
}

// waitingCtx closes waiting when the code under test first asks for Done, that is when it starts
// waiting on the context.
type waitingCtx struct {
	context.Context
	waiting chan struct{}
	once    sync.Once
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

func TestCallsQueueForASlotAndGiveUpWithTheirContext(t *testing.T) {
	h := NewHasher(testParams, 1)
	encoded := mustHash(t, h, "correct horse battery staple")

	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Hash", func(ctx context.Context) error {
			_, err := h.Hash(ctx, "correct horse battery staple")
			return err
		}},
		{"Verify argon2id", func(ctx context.Context) error {
			_, _, err := h.Verify(ctx, "correct horse battery staple", encoded)
			return err
		}},
		{"Equalize", func(ctx context.Context) error {
			h.Equalize(ctx, "correct horse battery staple")
			return context.Canceled // Equalize reports nothing; returning at all is the test
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Another hash holds the only slot.
			if err := h.acquire(context.Background()); err != nil {
				t.Fatal(err)
			}
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx := &waitingCtx{Context: parent, waiting: make(chan struct{})}
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx) }()

			select {
			case <-ctx.waiting:
			case err := <-done:
				t.Fatalf("returned %v while the only slot was taken; want it to wait", err)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v; want context.Canceled", err)
			}

			h.release()
			if err := tc.call(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("after the slot is free: %v", err)
			}
		})
	}
}

func TestCallsWithAnEndedContextDoNoWork(t *testing.T) {
	h := NewHasher(testParams, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "correct horse battery staple"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with ended context: err = %v; want context.Canceled", err)
	}
}

func TestHasherIsSafeForConcurrentUse(t *testing.T) {
	h := NewHasher(testParams, 2)
	encoded := mustHash(t, h, "correct horse battery staple")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			h.Equalize(context.Background(), "nobody")
			if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
				t.Error(err)
			}
			if ok, _, err := h.Verify(context.Background(), "correct horse battery staple", encoded); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

func TestNewHasherDefaultsConcurrencyToNumCPU(t *testing.T) {
	for _, concurrency := range []int{0, -1} {
		if got := cap(NewHasher(testParams, concurrency).slots); got != runtime.NumCPU() {
			t.Errorf("NewHasher(_, %d) allows %d at once; want runtime.NumCPU() = %d", concurrency, got, runtime.NumCPU())
		}
	}
	if got := cap(NewHasher(testParams, 3).slots); got != 3 {
		t.Errorf("NewHasher(_, 3) allows %d at once; want 3", got)
	}
}

func TestNewHasherPanicsOnParamsVerifyWouldRefuse(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 2 << 20, Time: 1, Threads: 1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1)
		}()
	}
}

func TestPolicyCheck(t *testing.T) {
	email := []string{"Alice.Smith@Example.com", "Alice.Smith", "Gatehouse"}
	p := NewPolicy()
	for _, tc := range []struct {
		name    string
		plain   string
		context []string
		want    string // Reason, or "" for accepted
	}{
		{"7 characters", "hk3#vQz", nil, ReasonTooShort},
		{"8 characters", "hk3#vQzw", nil, ""},
		{"256 characters", strings.Repeat("hk3#vQzw", 32), nil, ""},
		{"257 characters", strings.Repeat("hk3#vQzw", 32) + "x", nil, ReasonTooLong},
		{"8 two-byte code points", strings.Repeat("é", 8), nil, ""},
		{"7 code points of 4 bytes", strings.Repeat("😀", 7), nil, ReasonTooShort},
		{"8 code points combined to 7 by NFKC", "cafe\u0301 ok", nil, ReasonTooShort},
		{"256 code points expanded past 256 by NFKC", strings.Repeat("\ufb01", 129), nil, ReasonTooLong},
		{"empty", "", nil, ReasonTooShort},
		{"common password1234", "password1234", nil, ReasonCommon},
		{"common Password123 in other case", "Password123", nil, ReasonCommon},
		{"common iloveyou", "iloveyou", nil, ReasonCommon},
		{"common 12345678", "12345678", nil, ReasonCommon},
		{"common in full-width", "ｐａｓｓｗｏｒｄ１", nil, ReasonCommon},
		{"email address", "alice.smith@example.com", email, ReasonContextual},
		{"email local part", "ALICE.SMITH", email, ReasonContextual},
		{"local part derived from email", "alice.smith", []string{"alice.smith@example.com"}, ReasonContextual},
		{"app name", "gatehouse", []string{"gatehouse"}, ReasonContextual},
		{"containing a context word is allowed", "alice.smith likes tea", email, ""},
		{"empty context words are ignored", "hk3#vQzw", []string{"", ""}, ""},
		{"good passphrase", "correct horse battery staple", email, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.plain, tc.context...)
			var w Weakness
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check(%q) = %v; want nil", tc.plain, err)
			case tc.want != "" && !errors.As(err, &w):
				t.Errorf("Check(%q) = %v; want a Weakness %q", tc.plain, err, tc.want)
			case tc.want != "" && w.Reason != tc.want:
				t.Errorf("Check(%q) reason %q; want %q", tc.plain, w.Reason, tc.want)
			}
		})
	}
}

func TestWeaknessMessagesAreSentences(t *testing.T) {
	p := NewPolicy()
	for _, tc := range []struct {
		plain   string
		context []string
		want    string
	}{
		{"short", nil, "Use at least 8 characters."},
		{strings.Repeat("x", 257), nil, "Use at most 256 characters."},
		{"password1234", nil, "This password is too common; choose another."},
		{"alice@example.com", []string{"alice@example.com"}, "Your password must not be your email address."},
		{"alice.smith", []string{"alice.smith@example.com"}, "Your password must not be the part of your email address before the @."},
		{"gatehouse", []string{"Gatehouse"}, "Your password must not be your name, username or the name of this site."},
	} {
		if err := p.Check(tc.plain, tc.context...); err == nil || err.Error() != tc.want {
			t.Errorf("Check(%q) = %v; want %q", tc.plain, err, tc.want)
		}
	}
}

func TestNewPolicyKeepsOnlyCommonPasswordsThatPassTheLengthRule(t *testing.T) {
	p := NewPolicy()
	if len(p.common) < 10000 {
		t.Errorf("%d common passwords; the zxcvbn list has about 11,600 of 8 characters or more", len(p.common))
	}
	for _, pw := range p.common {
		if n := len([]rune(pw)); n < MinLength || pw != strings.ToLower(pw) {
			t.Errorf("common set holds %q (%d code points)", pw, n)
		}
	}
}

// TestHasherKeepsOneArrayPerSlotAndNoneLargerThanItsOwn checks the reuse of
// argon2id memory: hashes made by x/crypto's argon2 still verify (and wrong
// passwords still fail) when each verification runs in an array a previous
// one left dirty; at most one array per slot is kept; an array grown for a
// stored hash with a larger memory parameter than the hasher's is dropped.
func TestHasherKeepsOneArrayPerSlotAndNoneLargerThanItsOwn(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 2)
	big := NewHasher(Params{Memory: 256, Time: 1, Threads: 1}, 1)
	mine, theirs := mustHash(t, h, "correct horse"), mustHash(t, big, "battery staple")
	reference := phc{params: testParams, salt: []byte("0123456789abcdef"),
		key: argon2.IDKey([]byte("staple"), []byte("0123456789abcdef"), testParams.Time, testParams.Memory, testParams.Threads, keyLen)}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			cases := []struct {
				plain, encoded string
				want           bool
			}{{"correct horse", mine, true}, {"correct horsf", mine, false}, {"battery staple", theirs, true},
				{"staple", reference.String(), true}, {"stapler", reference.String(), false}}
			c := cases[i%len(cases)]
			ok, _, err := h.Verify(ctx, c.plain, c.encoded)
			if err != nil || ok != c.want {
				t.Errorf("Verify(%q) = %v, %v, want %v", c.plain, ok, err, c.want)
			}
		})
	}
	wg.Wait()
	if n := len(h.memory); n > 2 {
		t.Errorf("%d arrays kept for 2 slots", n)
	}
	for range len(h.memory) {
		m := <-h.memory
		if m.Size() > int(testParams.Memory)*1024 {
			t.Errorf("kept an array of %d bytes, more than the hasher's %d KiB", m.Size(), testParams.Memory)
		}
		m.Release()
	}
}
