package store_test

import (
	"sync"
	"testing"
	"time"

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
