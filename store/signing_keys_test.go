package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ keys.Store = (*store.Store)(nil)

// sealed is a stored key; the store never looks inside the ciphertext.
func sealed(kid string, created time.Time) keys.Sealed {
	return keys.Sealed{ID: kid, Ciphertext: []byte("sealed " + kid), CreatedAt: created}
}

func keysByState(t *testing.T, st *store.Store) map[keys.State][]keys.Sealed {
	t.Helper()
	rows, err := st.SigningKeys(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	out := map[keys.State][]keys.Sealed{}
	for _, k := range rows {
		out[k.State] = append(out[k.State], k)
	}
	return out
}

func TestInitSigningKeysStoresOnceUnderConcurrency(t *testing.T) {
	st := storetest.NewStore(t)
	const n = 8
	var wg sync.WaitGroup
	stored := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			stored[i], errs[i] = st.InitSigningKeys(ctxB, sealed(fmt.Sprint("cur", i), t0), sealed(fmt.Sprint("next", i), t0))
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("init %d: %v", i, errs[i])
		}
		if stored[i] {
			winners++
		}
	}
	got := keysByState(t, st)
	if winners != 1 || len(got[keys.Current]) != 1 || len(got[keys.Next]) != 1 || len(got) != 2 {
		t.Fatalf("%d inits stored; keys %v; want exactly one current and one next from one init", winners, got)
	}
	cur, next := got[keys.Current][0], got[keys.Next][0]
	if cur.ID[len("cur"):] != next.ID[len("next"):] {
		t.Fatalf("current %s and next %s come from different inits", cur.ID, next.ID)
	}
	if !cur.CreatedAt.Equal(t0) || !cur.ActivatedAt.Equal(t0) || !next.ActivatedAt.IsZero() || string(next.Ciphertext) != "sealed "+next.ID {
		t.Fatalf("stored %+v and %+v", cur, next)
	}
}

func TestRotateSigningKeysPromotesNextAndRetiresCurrent(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.RotateSigningKeys(ctxB, sealed("k3", t0), t0); !errors.Is(err, keys.ErrNoNextKey) {
		t.Fatalf("rotate with no keys: %v, want ErrNoNextKey", err)
	}
	if _, err := st.InitSigningKeys(ctxB, sealed("k1", t0), sealed("k2", t0)); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Hour)
	if err := st.RotateSigningKeys(ctxB, sealed("k3", t1), t1); err != nil {
		t.Fatal(err)
	}
	got := keysByState(t, st)
	retired, cur, next := got[keys.Retired], got[keys.Current], got[keys.Next]
	if len(retired) != 1 || retired[0].ID != "k1" || !retired[0].RetiredAt.Equal(t1) || !retired[0].ActivatedAt.Equal(t0) {
		t.Fatalf("retired %+v, want k1 retired at %v", retired, t1)
	}
	if len(cur) != 1 || cur[0].ID != "k2" || !cur[0].ActivatedAt.Equal(t1) || !cur[0].RetiredAt.IsZero() {
		t.Fatalf("current %+v, want k2 activated at %v", cur, t1)
	}
	if len(next) != 1 || next[0].ID != "k3" || !next[0].CreatedAt.Equal(t1) {
		t.Fatalf("next %+v, want k3", next)
	}
	if stored, err := st.InitSigningKeys(ctxB, sealed("x1", t1), sealed("x2", t1)); stored || err != nil {
		t.Fatalf("init with keys present = %v, %v; want false, nil", stored, err)
	}
}

func TestConcurrentRotationsTakeTurns(t *testing.T) {
	st := storetest.NewStore(t)
	if _, err := st.InitSigningKeys(ctxB, sealed("k0", t0), sealed("k1", t0)); err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = st.RotateSigningKeys(ctxB, sealed(fmt.Sprint("r", i), t0.Add(time.Minute)), t0.Add(time.Minute))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	got := keysByState(t, st)
	if len(got[keys.Current]) != 1 || len(got[keys.Next]) != 1 || len(got[keys.Retired]) != n {
		t.Fatalf("after %d rotations: %d current, %d next, %d retired", n, len(got[keys.Current]), len(got[keys.Next]), len(got[keys.Retired]))
	}
}

func TestOnlyOneCurrentAndOneNextKeyCanExist(t *testing.T) {
	st := storetest.NewStore(t)
	if _, err := st.InitSigningKeys(ctxB, sealed("k1", t0), sealed("k2", t0)); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"current", "next"} {
		_, err := st.Pool().Exec(ctxB, `insert into signing_keys (kid, state, ciphertext, created_at) values ('dup', $1, 'x', now())`, state)
		if err == nil {
			t.Fatalf("a second %s key was stored", state)
		}
	}
}

func TestPurgeSigningKeysDeletesOnlyLongRetiredKeys(t *testing.T) {
	st := storetest.NewStore(t)
	if _, err := st.InitSigningKeys(ctxB, sealed("k1", t0), sealed("k2", t0)); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{t0.Add(time.Hour), t0.Add(2 * time.Hour)} {
		if err := st.RotateSigningKeys(ctxB, sealed(fmt.Sprint("k", i+3), at), at); err != nil {
			t.Fatal(err)
		}
	}
	// k1 retired at t0+1h, k2 at t0+2h.
	n, err := st.PurgeSigningKeys(ctxB, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	got := keysByState(t, st)
	if len(got[keys.Retired]) != 1 || got[keys.Retired][0].ID != "k2" || len(got[keys.Current]) != 1 || len(got[keys.Next]) != 1 {
		t.Fatalf("after purge %v; want k2 retired and the current and next kept", got)
	}
}
