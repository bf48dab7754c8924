package server_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/clients"
)

// clientLister is the real store, counting its listings of every client and
// announcing each on listing before it goes to the database.
type clientLister struct {
	clients.Store
	lists   atomic.Int32
	listing chan struct{}
}

func (c *clientLister) ListClients(ctx context.Context) ([]clients.Client, error) {
	c.lists.Add(1)
	c.listing <- struct{}{}
	return c.Store.ListClients(ctx)
}

// While one preflight reads the web origins from a slow database, the others
// are answered from the origins read a moment before.
func TestPreflightsKeepTheCachedOriginsWhileTheDatabaseIsSlow(t *testing.T) {
	lister := &clientLister{listing: make(chan struct{}, 16)}
	h := newHarness(t, func(o *options) {
		o.clients = func(s clients.Store) clients.Store { lister.Store = s; return lister }
	})
	h.newSPA(t)
	preflight := func() *http.Request {
		req, err := http.NewRequest("OPTIONS", h.srv.URL+"/oauth/token", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", spaOrigin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		return req
	}
	allowed := func(req *http.Request) (bool, error) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		return resp.Header.Get("Access-Control-Allow-Origin") == spaOrigin, resp.Body.Close()
	}
	if ok, err := allowed(preflight()); err != nil || !ok {
		t.Fatalf("first preflight: allowed %v, %v", ok, err)
	}
	h.clock.Advance(2 * time.Second)
	for len(lister.listing) > 0 {
		<-lister.listing
	}

	tx, err := h.st.Pool().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // if the test stops before it releases the lock
		if err := tx.Rollback(context.Background()); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
			t.Error(err)
		}
	})
	if _, err := tx.Exec(context.Background(), `lock table oauth_clients in access exclusive mode`); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		ok, err := allowed(preflight())
		if err == nil && !ok {
			err = errors.New("origin refused")
		}
		slow <- err
	}()
	<-lister.listing // that preflight now waits on the database
	for range 3 {
		if ok, err := allowed(preflight()); err != nil || !ok {
			t.Fatalf("during a slow read: allowed %v, %v; want the cached origins", ok, err)
		}
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the slow preflight: %v", err)
	}
	if n := lister.lists.Load(); n != 2 {
		t.Fatalf("%d listings of the clients, want 2 (the first preflight, the refresh)", n)
	}
}
