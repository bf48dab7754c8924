package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(ctxB, "select count(*) from "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// addSessions stores n sessions of u that end at end.
func addSessions(t *testing.T, st *store.Store, u account.User, first byte, n int, end time.Time) {
	t.Helper()
	for i := range n {
		s := newSession(u.ID, hashOf(first+byte(i)))
		s.IdleExpiresAt, s.ExpiresAt = end, end
		if err := st.CreateSession(ctxB, s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSweepDeletesInBatchesUntilNothingExpiredIsLeft(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	addSessions(t, st, u, 1, 10, t0)                 // two and a half batches of 4
	addSessions(t, st, u, 100, 3, t0.Add(time.Hour)) // still live at the pass

	res, err := st.Sweep(ctxB, store.Cleanup{Now: t0.Add(time.Minute), CounterAge: time.Hour, BatchSize: 4})
	if err != nil || !res.Ran {
		t.Fatalf("Sweep = %+v, %v", res, err)
	}
	var got store.Swept
	for _, s := range res.Swept {
		if s.What == "sessions" {
			got = s
		}
	}
	if want := (store.Swept{What: "sessions", Rows: 10, Batches: 3}); got != want {
		t.Fatalf("sessions swept as %+v, want %+v: batches of at most 4 until one comes back short", got, want)
	}
	if n := countRows(t, st, "sessions"); n != 3 {
		t.Fatalf("%d sessions left, want the 3 live ones", n)
	}
	for i := range 3 {
		if _, err := st.SessionByHash(ctxB, hashOf(100+byte(i)), t0.Add(time.Minute)); err != nil {
			t.Fatalf("live session %d was swept: %v", i, err)
		}
	}
}

func TestAuditRetention(t *testing.T) {
	ages := []time.Duration{400 * 24 * time.Hour, 91 * 24 * time.Hour, 89 * 24 * time.Hour, time.Hour}
	cases := []struct {
		name   string
		before time.Time
		kept   int
	}{
		{"no retention set keeps every entry", time.Time{}, 4},
		{"a 90-day retention removes only the entries older than 90 days", t0.Add(-90 * 24 * time.Hour), 2},
		{"a retention longer than the log removes nothing", t0.Add(-1000 * 24 * time.Hour), 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.NewStore(t)
			for i, age := range ages {
				err := st.Record(ctxB, account.Event{At: t0.Add(-age), Type: fmt.Sprintf("test.event%d", i)})
				if err != nil {
					t.Fatal(err)
				}
			}
			res, err := st.Sweep(ctxB, store.Cleanup{Now: t0, AuditBefore: tc.before, BatchSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			left, err := st.AuditEvents(ctxB, store.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != tc.kept || res.RowsOf("audit_log") != int64(len(ages)-tc.kept) {
				t.Fatalf("%d entries left (%d reported deleted), want %d", len(left), res.RowsOf("audit_log"), tc.kept)
			}
			for _, e := range left {
				if !tc.before.IsZero() && e.At.Before(tc.before) {
					t.Errorf("entry from %s outlived the cut-off %s", e.At, tc.before)
				}
			}
		})
	}
}

// openTwice gives two stores on one database, as two replicas have.
func openTwice(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	return openTwiceAt(t, storetest.NewDatabase(t))
}

// openTwiceThroughBouncer gives two stores that reach one database through
// PgBouncer in transaction pooling mode with a single server connection, so
// that each transaction of either may run on the session the other's last one
// ran on: what a session advisory lock does not survive.
func openTwiceThroughBouncer(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	c, _ := storetest.NewCluster(t)
	_, url := storetest.NewBouncer(t, c, 1)
	return openTwiceAt(t, url)
}

func openTwiceAt(t *testing.T, url string) (*store.Store, *store.Store) {
	t.Helper()
	var out [2]*store.Store
	for i := range out {
		st, err := store.Open(ctxB, url, store.PoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		out[i] = st
	}
	return out[0], out[1]
}

// replicaPairs are the ways two replicas reach one database that the
// janitor's lease must hold under.
var replicaPairs = []struct {
	name string
	open func(*testing.T) (*store.Store, *store.Store)
}{
	{"connected directly", openTwice},
	{"connected through PgBouncer in transaction pooling", openTwiceThroughBouncer},
}

func TestOnlyOneReplicaSweepsAtATime(t *testing.T) {
	for _, pair := range replicaPairs {
		t.Run(pair.name, func(t *testing.T) {
			a, b := pair.open(t)
			u := newUser(t, a, "ann@example.com")
			addSessions(t, a, u, 1, 1, t0)
			pass := store.Cleanup{Now: t0.Add(time.Minute), CounterAge: time.Hour}

			_, release, ok, err := store.TakeJanitorLease(a, ctxB, time.Hour)
			if err != nil || !ok {
				t.Fatalf("first replica could not take the free lease: %v, %v", ok, err)
			}
			res, err := b.Sweep(ctxB, pass)
			if err != nil || res.Ran {
				t.Fatalf("second replica's pass = %+v, %v; want it skipped while the first runs", res, err)
			}
			if n := countRows(t, b, "sessions"); n != 1 {
				t.Fatalf("a skipped pass deleted rows: %d sessions left", n)
			}
			release()
			res, err = b.Sweep(ctxB, pass)
			if err != nil || !res.Ran || res.RowsOf("sessions") != 1 {
				t.Fatalf("second replica's pass after the first finished = %+v, %v; want it to run", res, err)
			}
			// A finished pass gives the lease back rather than leaving it to run out.
			if res, err := a.Sweep(ctxB, pass); err != nil || !res.Ran {
				t.Fatalf("first replica's pass after the second's = %+v, %v; want it to run", res, err)
			}
		})
	}
}

// expireJanitorLease makes the held lease run out now, as it does when its
// holder stops renewing it for its whole term.
func expireJanitorLease(t *testing.T, st *store.Store) {
	t.Helper()
	tag, err := st.Pool().Exec(ctxB, `update janitor_lease set expires_at = now() - interval '1 second'`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("expire the lease: %v, %d rows", err, tag.RowsAffected())
	}
}

func TestTheLeaseOfADeadReplicaRunsOutAndAnotherTakesOver(t *testing.T) {
	for _, pair := range replicaPairs {
		t.Run(pair.name, func(t *testing.T) {
			a, b := pair.open(t)
			pass := store.Cleanup{Now: t0, CounterAge: time.Hour}
			// The first replica takes the lease and dies: it never renews nor
			// releases it.
			renewDead, releaseDead, ok, err := store.TakeJanitorLease(a, ctxB, time.Hour)
			if err != nil || !ok {
				t.Fatalf("TakeJanitorLease = %v, %v", ok, err)
			}
			if res, err := b.Sweep(ctxB, pass); err != nil || res.Ran {
				t.Fatalf("pass while the dead replica's lease still runs = %+v, %v; want it skipped", res, err)
			}
			expireJanitorLease(t, a)
			_, releaseNext, ok, err := store.TakeJanitorLease(b, ctxB, time.Hour)
			if err != nil || !ok {
				t.Fatalf("taking the lease after it ran out = %v, %v; want it taken", ok, err)
			}
			// Should the first replica come back, it learns that its pass is over,
			// and its release leaves the new holder's lease alone.
			if err := renewDead(ctxB); !errors.Is(err, store.ErrJanitorLeaseLost) {
				t.Fatalf("renewing a lease taken over = %v, want ErrJanitorLeaseLost", err)
			}
			releaseDead()
			if res, err := a.Sweep(ctxB, pass); err != nil || res.Ran {
				t.Fatalf("pass while the new holder runs = %+v, %v; want it skipped", res, err)
			}
			releaseNext()
			if res, err := a.Sweep(ctxB, pass); err != nil || !res.Ran {
				t.Fatalf("pass after the new holder finished = %+v, %v; want it to run", res, err)
			}
		})
	}
}

func TestRenewingKeepsTheLease(t *testing.T) {
	a, b := openTwice(t)
	renew, release, ok, err := store.TakeJanitorLease(a, ctxB, time.Hour)
	if err != nil || !ok {
		t.Fatalf("TakeJanitorLease = %v, %v", ok, err)
	}
	defer release()
	expireJanitorLease(t, a)
	// A renewal made before anyone else took the lease restores it in full.
	if err := renew(ctxB); err != nil {
		t.Fatalf("renew = %v", err)
	}
	if res, err := b.Sweep(ctxB, store.Cleanup{Now: t0}); err != nil || res.Ran {
		t.Fatalf("pass while the renewed lease runs = %+v, %v; want it skipped", res, err)
	}
}

func TestAPassLeavesNoLeaseBehindEvenWhenItFails(t *testing.T) {
	a, b := openTwice(t)
	// The pass's batches join a transaction that has already failed, so its
	// first batch fails after the lease was taken.
	err := a.InTx(ctxB, func(ctx context.Context) error {
		if err := store.Exec(a, ctx, `select 1/0`); err == nil {
			t.Fatal("a statement meant to fail did not")
		}
		res, err := a.Sweep(ctx, store.Cleanup{Now: t0})
		if err == nil || !res.Ran {
			t.Fatalf("pass in an aborted transaction = %+v, %v; want it to run and fail", res, err)
		}
		return err
	})
	if err == nil {
		t.Fatal("the aborted transaction committed")
	}
	if n := countRows(t, a, "janitor_lease"); n != 0 {
		t.Fatalf("%d leases left after a failed pass, want none", n)
	}
	if res, err := b.Sweep(ctxB, store.Cleanup{Now: t0}); err != nil || !res.Ran {
		t.Fatalf("next pass = %+v, %v; want it to run", res, err)
	}
}
