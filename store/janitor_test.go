package store_test

import (
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
	url := storetest.NewDatabase(t)
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

func TestOnlyOneReplicaSweepsAtATime(t *testing.T) {
	a, b := openTwice(t)
	u := newUser(t, a, "ann@example.com")
	addSessions(t, a, u, 1, 1, t0)
	pass := store.Cleanup{Now: t0.Add(time.Minute), CounterAge: time.Hour}

	unlock, ok, err := store.LockJanitor(a, ctxB)
	if err != nil || !ok {
		t.Fatalf("first replica could not take the free lock: %v, %v", ok, err)
	}
	res, err := b.Sweep(ctxB, pass)
	if err != nil || res.Ran {
		t.Fatalf("second replica's pass = %+v, %v; want it skipped while the first runs", res, err)
	}
	if n := countRows(t, b, "sessions"); n != 1 {
		t.Fatalf("a skipped pass deleted rows: %d sessions left", n)
	}
	unlock()
	res, err = b.Sweep(ctxB, pass)
	if err != nil || !res.Ran || res.RowsOf("sessions") != 1 {
		t.Fatalf("second replica's pass after the first finished = %+v, %v; want it to run", res, err)
	}
}

func TestJanitorLockEndsWithTheSessionOfADeadReplica(t *testing.T) {
	a, b := openTwice(t)
	pass := store.Cleanup{Now: t0, CounterAge: time.Hour}
	unlock, ok, err := store.LockJanitor(a, ctxB)
	if err != nil || !ok {
		t.Fatalf("LockJanitor = %v, %v", ok, err)
	}
	var pid int
	err = b.Pool().QueryRow(ctxB, `select pid from pg_locks where locktype = 'advisory' and granted and database =
		(select oid from pg_database where datname = current_database())`).Scan(&pid)
	if err != nil {
		t.Fatalf("find the lock holder's backend: %v", err)
	}
	// The holder's connection drops, as when its replica dies mid-pass.
	if _, err := b.Pool().Exec(ctxB, `select pg_terminate_backend($1, 5000)`, pid); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Sweep(ctxB, pass); err != nil || !res.Ran {
		t.Fatalf("pass after the holder died = %+v, %v; want it to run", res, err)
	}
	// The dead holder's release must not fail, and its store runs later
	// passes as any other.
	unlock()
	if res, err := a.Sweep(ctxB, pass); err != nil || !res.Ran {
		t.Fatalf("first replica's next pass = %+v, %v; want it to run", res, err)
	}
}
