package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ mfa.Store = (*store.Store)(nil)

func counter(key string, max int) limits.Counter {
	return limits.Counter{Key: key, WindowStart: t0, WindowEnd: t0.Add(time.Hour), Max: max}
}

func countOf(t *testing.T, st *store.Store, key string) int {
	t.Helper()
	var n int
	err := st.Pool().QueryRow(ctxB, `select coalesce(sum(count), 0) from sms_send_counters where key = $1`, key).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSendCountersStopAtTheirMaxUnderConcurrency(t *testing.T) {
	st := storetest.NewStore(t)
	var wg sync.WaitGroup
	var taken atomic.Int32
	for range 20 {
		wg.Go(func() {
			exhausted, err := st.TakeCounters(ctxB, []limits.Counter{counter("global/3600s", 5)})
			if err != nil {
				t.Error(err)
			}
			if len(exhausted) == 0 {
				taken.Add(1)
			}
		})
	}
	wg.Wait()
	if taken.Load() != 5 || countOf(t, st, "global/3600s") != 5 {
		t.Fatalf("%d of 20 concurrent sends taken, counter %d; want exactly 5", taken.Load(), countOf(t, st, "global/3600s"))
	}
}

func TestOneExhaustedCounterRefusesTheSendInAll(t *testing.T) {
	st := storetest.NewStore(t)
	both := []limits.Counter{counter("global/3600s", 10), counter("phone:aa/3600s", 1)}
	if ex, err := st.TakeCounters(ctxB, both); err != nil || len(ex) != 0 {
		t.Fatalf("first send: %v, %v", ex, err)
	}
	ex, err := st.TakeCounters(ctxB, both)
	if err != nil || len(ex) != 1 || ex[0].Key != "phone:aa/3600s" {
		t.Fatalf("second send: exhausted %v, %v; want the phone counter", ex, err)
	}
	if n := countOf(t, st, "global/3600s"); n != 1 {
		t.Fatalf("global counter = %d after a refused send, want 1 (the refusal undone)", n)
	}

	// Inside a caller's transaction, the refusal undoes only its own writes.
	err = st.InTx(ctxB, func(ctx context.Context) error {
		if _, err := st.TakeCounters(ctx, []limits.Counter{counter("ip:a/3600s", 5)}); err != nil {
			return err
		}
		ex, err := st.TakeCounters(ctx, both)
		if err != nil || len(ex) != 1 {
			return errors.New("want the phone counter exhausted")
		}
		return nil
	})
	if err != nil || countOf(t, st, "ip:a/3600s") != 1 || countOf(t, st, "global/3600s") != 1 {
		t.Fatalf("in a transaction: %v; ip %d, global %d; want 1 and 1", err,
			countOf(t, st, "ip:a/3600s"), countOf(t, st, "global/3600s"))
	}

	next := counter("phone:aa/3600s", 1)
	next.WindowStart, next.WindowEnd = t0.Add(time.Hour), t0.Add(2*time.Hour)
	if ex, err := st.TakeCounters(ctxB, []limits.Counter{next}); err != nil || len(ex) != 0 {
		t.Fatalf("next window: %v, %v; want a fresh count", ex, err)
	}
}

func TestMFAFailuresCountLockAndClear(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	for i := 1; i <= 3; i++ {
		if n, err := st.AddMFAFailure(ctxB, u.ID, t0); err != nil || n != i {
			t.Fatalf("failure %d counted as %d, %v", i, n, err)
		}
	}
	if err := st.LockMFA(ctxB, u.ID, t0.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if err := st.ClearMFAFailures(ctxB, u.ID); err != nil {
		t.Fatal(err)
	}
	got, err := st.MFAFailures(ctxB, u.ID)
	if err != nil || got.Consecutive != 0 || !got.LockedUntil.Equal(t0.Add(time.Hour)) || got.AccountLocked {
		t.Fatalf("state = %+v, %v", got, err)
	}
	if err := st.LockMFA(ctxB, u.ID, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if got, err := st.MFAFailures(ctxB, u.ID); err != nil || !got.AccountLocked || !got.LockedUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after account lock: %+v", got)
	}
	if got, err := st.MFAFailures(ctxB, "not-a-uuid"); err != nil || got.Consecutive != 0 {
		t.Fatalf("malformed id: %+v, %v; want no failures", got, err)
	}
}

func TestDeleteExpiredMFA(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if _, err := st.TakeCounters(ctxB, []limits.Counter{counter("global/3600s", 5)}); err != nil {
		t.Fatal(err)
	}
	c := mfa.Challenge{
		ID: "00000000-0000-4000-8000-000000000001", UserID: u.ID, TxID: "tx", Purpose: mfa.PurposeChallenge,
		PhoneSealed: []byte("sealed"), PhoneLookup: hashOf(1), Masked: "•••• 3456", CountryCode: 44,
		CodeHash: hashOf(2), Sends: 1, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), LastSentAt: t0,
	}
	if err := st.CreateMFAChallenge(ctxB, c); err != nil {
		t.Fatal(err)
	}
	n, err := st.DeleteExpiredMFA(ctxB, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("an hour on: deleted %d, %v; want the counter only", n, err)
	}
	if _, err := st.MFAChallenge(ctxB, c.ID); err != nil {
		t.Fatalf("challenge gone an hour after expiry: %v; want it kept a day", err)
	}
	if n, err := st.DeleteExpiredMFA(ctxB, t0.Add(25*time.Hour)); err != nil || n != 1 {
		t.Fatalf("a day on: deleted %d, want the challenge", n)
	}
	if _, err := st.MFAChallenge(ctxB, c.ID); !errors.Is(err, mfa.ErrChallengeNotFound) {
		t.Fatalf("after cleanup: %v, want ErrChallengeNotFound", err)
	}
}
