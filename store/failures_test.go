package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestFailureCountersCountPairsAndAddresses(t *testing.T) {
	st := storetest.NewStore(t)
	reset := t0.Add(-15 * time.Minute)
	for i := range 3 {
		if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0.Add(time.Duration(i)*time.Minute), 10, reset); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordFailure(ctxB, "bob@example.com", ipA, t0.Add(90*time.Minute), 10, reset); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordFailure(ctxB, "ann@example.com", ipB, t0, 10, reset); err != nil {
		t.Fatal(err)
	}

	got, err := st.FailureState(ctxB, "ann@example.com", ipA, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.PairConsecutive != 3 || !got.PairLastFailure.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("pair = %d at %v, want 3 at %v", got.PairConsecutive, got.PairLastFailure, t0.Add(2*time.Minute))
	}
	if got.IPFailures != 4 || !got.IPLastFailure.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("address = %d at %v, want 4 across accounts at %v", got.IPFailures, got.IPLastFailure, t0.Add(90*time.Minute))
	}

	if err := st.ClearPair(ctxB, "ann@example.com", ipA); err != nil {
		t.Fatal(err)
	}
	got, err = st.FailureState(ctxB, "ann@example.com", ipA, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.PairConsecutive != 0 || got.IPFailures != 4 {
		t.Errorf("after clear: pair %d, address %d; want 0 and 4 (address failures stay)", got.PairConsecutive, got.IPFailures)
	}
}

func TestAddressFailuresOutsideTheWindowDoNotCount(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0, 10, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0.Add(30*time.Hour), 10, t0); err != nil {
		t.Fatal(err)
	}
	got, err := st.FailureState(ctxB, "x", ipA, t0.Add(30*time.Hour).Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.IPFailures != 1 {
		t.Fatalf("failures in window = %d, want 1", got.IPFailures)
	}
}

func TestPairCountRestartsOnceItsLockoutHasEnded(t *testing.T) {
	st := storetest.NewStore(t)
	for i := range 10 {
		if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0.Add(time.Duration(i)*time.Second), 10, t0.Add(-15*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	later := t0.Add(20 * time.Minute)
	if err := st.RecordFailure(ctxB, "ann@example.com", ipA, later, 10, later.Add(-15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.FailureState(ctxB, "ann@example.com", ipA, later.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.PairConsecutive != 1 {
		t.Fatalf("consecutive after an ended lockout = %d, want 1", got.PairConsecutive)
	}
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	st := storetest.NewStore(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0, 100, t0.Add(-time.Hour)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := st.FailureState(ctxB, "ann@example.com", ipA, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.PairConsecutive != 20 || got.IPFailures != 20 {
		t.Fatalf("after 20 concurrent failures: pair %d, address %d; want 20 and 20", got.PairConsecutive, got.IPFailures)
	}
}

// refuseAt admits an attempt while the pair has fewer than pairMax failures
// and the address fewer than ipMax.
func refuseAt(pairMax, ipMax int) func(account.FailureState) error {
	return func(st account.FailureState) error {
		if st.PairConsecutive >= pairMax {
			return &account.LockedError{}
		}
		if st.IPFailures >= ipMax {
			return &account.ThrottledError{}
		}
		return nil
	}
}

func TestConcurrentTakesNeverPassTheLimits(t *testing.T) {
	cases := []struct {
		name             string
		accounts         int
		pairMax, ipMax   int
		wantPair, wantIP int
	}{
		{"one account stops at the pair limit", 1, 10, 100, 10, 10},
		{"many accounts stop at the address limit", 12, 10, 25, -1, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := storetest.NewStore(t)
			rule := account.AttemptRule{IPSince: t0.Add(-24 * time.Hour), PairLimit: c.pairMax, PairReset: t0.Add(-15 * time.Minute)}
			var mu sync.Mutex
			taken, refused := 0, 0
			var wg sync.WaitGroup
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					email := fmt.Sprintf("user%d@example.com", i%c.accounts)
					_, err := st.TakeAttempt(ctxB, email, ipA, t0.Add(time.Duration(i)*time.Millisecond), rule, refuseAt(c.pairMax, c.ipMax))
					var locked *account.LockedError
					var throttled *account.ThrottledError
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						taken++
					case errors.As(err, &locked), errors.As(err, &throttled):
						refused++
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			got, err := st.FailureState(ctxB, "user0@example.com", ipA, t0.Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if taken != c.wantIP || got.IPFailures != c.wantIP {
				t.Errorf("taken %d, address counts %d; want %d and %d", taken, got.IPFailures, c.wantIP, c.wantIP)
			}
			if c.wantPair >= 0 && got.PairConsecutive != c.wantPair {
				t.Errorf("pair counts %d, want %d", got.PairConsecutive, c.wantPair)
			}
			if taken+refused != 60 {
				t.Errorf("taken %d + refused %d, want 60 answers", taken, refused)
			}
		})
	}
}

func TestARefusedTakeCountsNothing(t *testing.T) {
	st := storetest.NewStore(t)
	rule := account.AttemptRule{IPSince: t0.Add(-24 * time.Hour), PairLimit: 10, PairReset: t0.Add(-15 * time.Minute)}
	_, err := st.TakeAttempt(ctxB, "ann@example.com", ipA, t0, rule, refuseAt(0, 100))
	var locked *account.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("take = %v, want the admit's *LockedError", err)
	}
	got, err := st.FailureState(ctxB, "ann@example.com", ipA, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got != (account.FailureState{}) {
		t.Fatalf("after a refused take: %+v, want nothing counted", got)
	}
}

func TestAnUndoneAttemptLeavesTheCountersAsTheyWere(t *testing.T) {
	reset := t0.Add(-15 * time.Minute)
	cases := []struct {
		name  string
		prior []time.Time // earlier failures of the pair
		at    time.Time
	}{
		{"no earlier failure", nil, t0},
		{"earlier failures in the same hour", []time.Time{t0.Add(-2 * time.Minute), t0.Add(-time.Minute)}, t0},
		{"a lockout that has ended keeps its count", tenFrom(t0.Add(-time.Hour)), t0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := storetest.NewStore(t)
			for _, at := range c.prior {
				if err := st.RecordFailure(ctxB, "ann@example.com", ipA, at, 10, at.Add(-15*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			since := c.at.Add(-24 * time.Hour)
			before, err := st.FailureState(ctxB, "ann@example.com", ipA, since)
			if err != nil {
				t.Fatal(err)
			}
			rule := account.AttemptRule{IPSince: since, PairLimit: 10, PairReset: reset}
			a, err := st.TakeAttempt(ctxB, "ann@example.com", ipA, c.at, rule, refuseAt(100, 100))
			if err != nil {
				t.Fatal(err)
			}
			during, err := st.FailureState(ctxB, "ann@example.com", ipA, since)
			if err != nil {
				t.Fatal(err)
			}
			if during == before {
				t.Fatalf("the take counted nothing: %+v", during)
			}
			if err := st.UndoAttempt(ctxB, a); err != nil {
				t.Fatal(err)
			}
			after, err := st.FailureState(ctxB, "ann@example.com", ipA, since)
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Fatalf("after undo: %+v, want %+v", after, before)
			}
		})
	}
}

func TestUndoingAnAttemptKeepsTheOnesTakenAfterIt(t *testing.T) {
	st := storetest.NewStore(t)
	rule := account.AttemptRule{IPSince: t0.Add(-24 * time.Hour), PairLimit: 10, PairReset: t0.Add(-15 * time.Minute)}
	first, err := st.TakeAttempt(ctxB, "ann@example.com", ipA, t0, rule, refuseAt(100, 100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeAttempt(ctxB, "ann@example.com", ipA, t0.Add(time.Second), rule, refuseAt(100, 100)); err != nil {
		t.Fatal(err)
	}
	if err := st.UndoAttempt(ctxB, first); err != nil {
		t.Fatal(err)
	}
	got, err := st.FailureState(ctxB, "ann@example.com", ipA, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := account.FailureState{PairConsecutive: 1, PairLastFailure: t0.Add(time.Second), IPFailures: 1, IPLastFailure: t0.Add(time.Second)}
	if !got.PairLastFailure.Equal(want.PairLastFailure) || !got.IPLastFailure.Equal(want.IPLastFailure) ||
		got.PairConsecutive != 1 || got.IPFailures != 1 {
		t.Fatalf("after undoing the first of two: %+v, want %+v", got, want)
	}
}

func tenFrom(start time.Time) []time.Time {
	ts := make([]time.Time, 10)
	for i := range ts {
		ts[i] = start.Add(time.Duration(i) * time.Second)
	}
	return ts
}
