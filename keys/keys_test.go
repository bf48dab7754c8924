package keys_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctxB      = context.Background()
	t0        = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	masterKey = []byte("0123456789abcdef0123456789abcdef")
)

const (
	retain  = 48 * time.Hour
	refresh = 5 * time.Second
)

// clock is the time every Manager in a test reads; tests move it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore counts how often Managers read the keys.
type countingStore struct {
	keys.Store
	loads atomic.Int64
}

func (s *countingStore) SigningKeys(ctx context.Context) ([]keys.Sealed, error) {
	s.loads.Add(1)
	return s.Store.SigningKeys(ctx)
}

func newManager(t *testing.T, st keys.Store, clk *clock, key []byte) *keys.Manager {
	t.Helper()
	m, err := keys.NewManager(st, key, keys.Options{RetainFor: retain, Refresh: refresh, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func initManager(t *testing.T, st keys.Store, clk *clock) *keys.Manager {
	t.Helper()
	m := newManager(t, st, clk, masterKey)
	if err := m.Init(ctxB); err != nil {
		t.Fatalf("init: %v", err)
	}
	return m
}

func signingKID(t *testing.T, m *keys.Manager) string {
	t.Helper()
	kid, key, err := m.Signing(ctxB)
	if err != nil || key == nil {
		t.Fatalf("signing key: %v", err)
	}
	return kid
}

func statesOf(t *testing.T, st keys.Store) map[keys.State][]string {
	t.Helper()
	rows, err := st.SigningKeys(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	out := map[keys.State][]string{}
	for _, r := range rows {
		out[r.State] = append(out[r.State], r.ID)
	}
	return out
}

// jwksKIDs parses the JWKS as a relying party would and returns its kids,
// checking each key is an RS256 signing key equal to the Manager's.
func jwksKIDs(t *testing.T, m *keys.Manager) []string {
	t.Helper()
	raw, err := m.JWKS(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("jwks %s: %v", raw, err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.Use != "sig" || k.Algorithm != "RS256" || !k.IsPublic() || !k.Valid() {
			t.Fatalf("jwks key %+v: want a valid public RS256 signing key", k)
		}
		pub, err := m.PublicKey(ctxB, k.KeyID)
		if err != nil || !pub.Equal(k.Key) {
			t.Fatalf("jwks key %s differs from PublicKey (%v)", k.KeyID, err)
		}
		kids = append(kids, k.KeyID)
	}
	return kids
}

func TestConcurrentInitsStoreOneCurrentAndOneNext(t *testing.T) {
	st := storetest.NewStore(t)
	clk := &clock{t: t0}
	a, b := newManager(t, st, clk, masterKey), newManager(t, st, clk, masterKey)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*keys.Manager{a, b} {
		wg.Go(func() { errs[i] = m.Init(ctxB) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("init: %v", err)
	}
	states := statesOf(t, st)
	if len(states[keys.Current]) != 1 || len(states[keys.Next]) != 1 || len(states) != 2 {
		t.Fatalf("stored keys %v, want one current and one next", states)
	}
	current, next := states[keys.Current][0], states[keys.Next][0]
	if signingKID(t, a) != current || signingKID(t, b) != current {
		t.Fatalf("managers sign with %s and %s, want the stored current %s", signingKID(t, a), signingKID(t, b), current)
	}
	if got := jwksKIDs(t, b); !slices.Equal(got, []string{current, next}) {
		t.Fatalf("jwks kids %v, want [current next] = %v", got, []string{current, next})
	}
	if len(current) != 22 {
		t.Fatalf("kid %q, want 16 bytes in unpadded base64url", current)
	}

	if err := a.Init(ctxB); err != nil {
		t.Fatal(err)
	}
	if again := statesOf(t, st); !slices.Equal(again[keys.Current], states[keys.Current]) || !slices.Equal(again[keys.Next], states[keys.Next]) {
		t.Fatalf("a second init changed the keys: %v, was %v", again, states)
	}
}

func TestRotationKeepsTheOldKeyPublishedForRetainFor(t *testing.T) {
	st := storetest.NewStore(t)
	clk := &clock{t: t0}
	a := initManager(t, st, clk)
	before := statesOf(t, st)
	oldCurrent, oldNext := before[keys.Current][0], before[keys.Next][0]

	clk.Advance(time.Hour)
	replica := initManager(t, st, clk)
	if err := a.Rotate(ctxB); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	after := statesOf(t, st)
	newNext := after[keys.Next][0]
	if signingKID(t, a) != oldNext || !slices.Equal(after[keys.Retired], []string{oldCurrent}) || newNext == oldNext {
		t.Fatalf("after rotation %v signing %s; want %s current, %s retired, a new next", after, signingKID(t, a), oldNext, oldCurrent)
	}
	if got, want := jwksKIDs(t, a), []string{oldNext, newNext, oldCurrent}; !slices.Equal(got, want) {
		t.Fatalf("jwks kids %v, want [current next retired] = %v", got, want)
	}

	// The replica keeps its cache for Refresh, then sees the rotation. Either
	// way the keys it signs with are published.
	if kid := signingKID(t, replica); kid != oldCurrent {
		t.Fatalf("replica signs with %s within Refresh, want its cached %s", kid, oldCurrent)
	}
	clk.Advance(refresh)
	if kid := signingKID(t, replica); kid != oldNext {
		t.Fatalf("replica signs with %s after Refresh, want %s", kid, oldNext)
	}
	if _, err := replica.PublicKey(ctxB, newNext); err != nil {
		t.Fatalf("replica does not know the new next key: %v", err)
	}

	clk.Advance(retain - refresh - time.Second)
	if _, err := a.PublicKey(ctxB, oldCurrent); err != nil {
		t.Fatalf("retired key 1s before RetainFor ends: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := a.PublicKey(ctxB, oldCurrent); !errors.Is(err, keys.ErrUnknownKey) {
		t.Fatalf("retired key after RetainFor: %v, want ErrUnknownKey", err)
	}
	if got, want := jwksKIDs(t, a), []string{oldNext, newNext}; !slices.Equal(got, want) {
		t.Fatalf("jwks kids after RetainFor %v, want %v", got, want)
	}

	clk.Advance(time.Second)
	if err := replica.Rotate(ctxB); err != nil {
		t.Fatal(err)
	}
	if retired := statesOf(t, st)[keys.Retired]; !slices.Equal(retired, []string{oldNext}) {
		t.Fatalf("retired keys after the second rotation %v, want only %s (the expired one purged)", retired, oldNext)
	}
}

func TestKeysSealedUnderAnotherMasterKeyOrAlteredAreRefused(t *testing.T) {
	st := storetest.NewStore(t)
	clk := &clock{t: t0}
	initManager(t, st, clk)

	other := newManager(t, st, clk, []byte("another master key of 32 bytes!!"))
	err := other.Init(ctxB)
	if !errors.Is(err, keys.ErrUndecryptable) || !strings.Contains(err.Error(), "is GATEHOUSE_SECRET_KEY the one they were made with?") {
		t.Fatalf("init under a wrong master key: %v", err)
	}
	if n := len(statesOf(t, st)); n != 2 {
		t.Fatalf("a failed init changed the stored keys: %d states", n)
	}

	saved, err := st.SigningKeys(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	// tamper alters the stored rows, checks a new Manager refuses them, and
	// puts the rows back.
	tamper := func(t *testing.T, sql string) {
		t.Helper()
		if _, err := st.Pool().Exec(ctxB, sql); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, k := range saved {
				if _, err := st.Pool().Exec(ctxB, `update signing_keys set ciphertext = $2 where kid = $1`, k.ID, k.Ciphertext); err != nil {
					t.Fatal(err)
				}
			}
		}()
		m := newManager(t, st, clk, masterKey)
		if _, _, err := m.Signing(ctxB); !errors.Is(err, keys.ErrUndecryptable) {
			t.Fatalf("signing with altered keys: %v, want ErrUndecryptable", err)
		}
	}
	t.Run("flipped byte", func(t *testing.T) {
		// XOR, so that the byte changes whatever it was (overwriting it with
		// 0xff left one key in 256 as it was).
		tamper(t, `update signing_keys set ciphertext = set_byte(ciphertext, 19, get_byte(ciphertext, 19) # 255) where state = 'current'`)
	})
	t.Run("ciphertexts swapped between rows", func(t *testing.T) {
		tamper(t, `update signing_keys k set ciphertext = o.ciphertext from signing_keys o where k.kid <> o.kid`)
	})
}

func TestUnknownKIDsReloadAtMostOncePerRefresh(t *testing.T) {
	st := &countingStore{Store: storetest.NewStore(t)}
	clk := &clock{t: t0}
	m := initManager(t, st, clk)

	before := st.loads.Load()
	for range 50 {
		if _, err := m.PublicKey(ctxB, "no-such-key"); !errors.Is(err, keys.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := st.loads.Load() - before; n != 1 {
		t.Fatalf("50 unknown kids within Refresh caused %d loads, want 1", n)
	}
}

func TestAStaleCacheIsReloadedOnceAndTheJWKSReused(t *testing.T) {
	st := &countingStore{Store: storetest.NewStore(t)}
	clk := &clock{t: t0}
	m := initManager(t, st, clk)
	first, err := m.JWKS(ctxB)
	if err != nil {
		t.Fatal(err)
	}

	clk.Advance(refresh)
	before := st.loads.Load()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := m.JWKS(ctxB); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := st.loads.Load() - before; n != 1 {
		t.Fatalf("20 concurrent callers on a stale cache caused %d loads, want 1", n)
	}
	again, err := m.JWKS(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	if &again[0] != &first[0] {
		t.Fatal("the JWKS was rebuilt although the key set did not change")
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.JWKS(ctxB); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("serving the JWKS allocates %v times", allocs)
	}
}

func TestRotateNeedsANextKey(t *testing.T) {
	st := storetest.NewStore(t)
	m := newManager(t, st, &clock{t: t0}, masterKey)
	if err := m.Rotate(ctxB); !errors.Is(err, keys.ErrNoNextKey) {
		t.Fatalf("rotate before init: %v, want ErrNoNextKey", err)
	}
	if _, _, err := m.Signing(ctxB); !errors.Is(err, keys.ErrNoCurrentKey) {
		t.Fatalf("signing before init: %v, want ErrNoCurrentKey", err)
	}
}

func TestNewManagerRefusesWeakSettings(t *testing.T) {
	st := &countingStore{}
	if _, err := keys.NewManager(st, masterKey[:16], keys.Options{}); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
	if _, err := keys.NewManager(st, masterKey, keys.Options{Bits: 1024}); err == nil {
		t.Fatal("1024-bit keys were accepted")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.NewManager(st, key, keys.Options{}); err != nil {
		t.Fatal(err)
	}
}
