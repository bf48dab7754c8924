package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func hashOf(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func newSession(userID string, h []byte) account.Session {
	return account.Session{
		UserID: userID, AuthTime: t0, AMR: []string{"pwd"}, IP: ipA, UserAgent: "test",
		CreatedAt: t0, LastSeenAt: t0, IdleExpiresAt: t0.Add(time.Hour), ExpiresAt: t0.Add(24 * time.Hour),
	}.WithIDHash(h)
}

func TestSessionIsFoundUntilItExpires(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.CreateSession(ctxB, newSession(u.ID, hashOf(1))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		at    time.Time
		found bool
	}{
		{"fresh", t0.Add(time.Minute), true},
		{"idle too long", t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.SessionByHash(ctxB, hashOf(1), tt.at)
			if tt.found {
				if err != nil || got.UserID != u.ID || got.IP != ipA || len(got.AMR) != 1 {
					t.Fatalf("got %+v, %v; want the session", got, err)
				}
				return
			}
			if !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestTouchExtendsIdleButNotAbsoluteExpiry(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.CreateSession(ctxB, newSession(u.ID, hashOf(1))); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession(ctxB, hashOf(1), t0.Add(50*time.Minute), t0.Add(110*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionByHash(ctxB, hashOf(1), t0.Add(100*time.Minute)); err != nil {
		t.Fatalf("touched session after old idle expiry: %v", err)
	}
	if _, err := st.SessionByHash(ctxB, hashOf(1), t0.Add(25*time.Hour)); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("session past absolute expiry: err = %v, want ErrNotFound", err)
	}
}

func TestDeleteUserSessionsKeepsTheCurrentOne(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	other := newUser(t, st, "bob@example.com")
	for i, id := range []string{u.ID, u.ID, u.ID, other.ID} {
		if err := st.CreateSession(ctxB, newSession(id, hashOf(byte(i+1)))); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteUserSessions(ctxB, u.ID, hashOf(1))
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2, nil", n, err)
	}
	for h, want := range map[byte]bool{1: true, 2: false, 3: false, 4: true} {
		_, err := st.SessionByHash(ctxB, hashOf(h), t0)
		if got := err == nil; got != want {
			t.Errorf("session %d exists = %v, want %v", h, got, want)
		}
	}
}

func TestDeleteExpiredSweepsEndedSessionsAndOldCounters(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.CreateSession(ctxB, newSession(u.ID, hashOf(1))); err != nil {
		t.Fatal(err)
	}
	live := newSession(u.ID, hashOf(2))
	live.IdleExpiresAt, live.ExpiresAt = t0.Add(48*time.Hour), t0.Add(72*time.Hour)
	if err := st.CreateSession(ctxB, live); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordFailure(ctxB, "ann@example.com", ipA, t0, 10, t0.Add(-15*time.Minute)); err != nil {
		t.Fatal(err)
	}

	n, err := st.DeleteExpired(ctxB, t0.Add(26*time.Hour), 25*time.Hour)
	if err != nil || n != 3 {
		t.Fatalf("swept %d rows, %v; want 3 (one session, two counters)", n, err)
	}
	if _, err := st.SessionByHash(ctxB, hashOf(2), t0.Add(26*time.Hour)); err != nil {
		t.Fatalf("live session was swept: %v", err)
	}
}
