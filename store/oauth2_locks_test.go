package store_test

import (
	"errors"
	"testing"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/store"
)

// A user's tokens are ended (a password change, a block) while one of their
// refresh tokens is being rotated: the ending must wait for the rotation and
// take the token it issues too, or that token would outlive the revocation.
func TestEndingAUsersTokensWaitsForARotationInFlight(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	user := "user-1"
	req := grantRequest("grant-1", "spa", user)
	if err := f.o.CreateRefreshTokenSession(ctxB, "rt-1", "", req); err != nil {
		t.Fatal(err)
	}
	rotation, err := f.o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	// A read begins the transaction in Postgres (fosite's transactions only
	// write, and send their writes at commit): the rotation is then in flight
	// between its statements.
	if _, err := f.o.GetRefreshTokenSession(rotation, "rt-1", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.o.RotateRefreshToken(rotation, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateRefreshTokenSession(rotation, "rt-2", "", req); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := f.st.RevokeUserTokens(ctxB, user)
		ended <- err
	}()
	// The revocation must be waiting for the rotation before the
	// rotation commits; bounded, no sleeping on a guess.
	waiting := false
	for range 2000 {
		var n int
		if err := f.st.Pool().QueryRow(ctxB, `select count(*) from pg_locks where not granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if waiting = n > 0; waiting {
			break
		}
		select {
		case err := <-ended:
			t.Fatalf("the revocation finished while a rotation was in flight (err %v): the new token will outlive it", err)
		default:
		}
	}
	if !waiting {
		t.Fatal("the revocation never waited for the rotation")
	}
	if err := f.o.Commit(rotation); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctxB, "rt-2", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("the token issued by the rotation survived the revocation: %v", err)
	}
}

// The same, with the rotation's writes still queued when the user's tokens
// are ended, as fosite's refresh leaves them until it commits: the commit
// finds the token gone and issues nothing.
func TestEndingAUsersTokensBeforeAQueuedRotationCommitsFailsIt(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	req := grantRequest("grant-1", "spa", "user-1")
	if err := f.o.CreateRefreshTokenSession(ctxB, "rt-1", "", req); err != nil {
		t.Fatal(err)
	}
	rotation, err := f.o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.o.RotateRefreshToken(rotation, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateAccessTokenSession(rotation, "at-2", req); err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateRefreshTokenSession(rotation, "rt-2", "at-2", req); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.RevokeUserTokens(ctxB, "user-1"); err != nil || n != 1 {
		t.Fatalf("ending the user's tokens = %d, %v; want the one token", n, err)
	}
	if err := f.o.Commit(rotation); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("commit after the token was ended: %v, want ErrNotFound", err)
	}
	if err := f.o.Rollback(rotation); err != nil {
		t.Fatalf("rollback after a failed commit (fosite does so): %v", err)
	}
	var n int
	if err := f.st.Pool().QueryRow(ctxB, `select count(*) from oauth2_tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d tokens left after the failed rotation, want none", n)
	}
}
