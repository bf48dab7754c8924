package settings_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// readCounter is the real store, counting its reads of all settings and
// announcing each on entered before it goes to the database.
type readCounter struct {
	*store.Store
	reads   atomic.Int32
	entered chan struct{}
}

func (r *readCounter) AllSettings(ctx context.Context) (map[string]string, error) {
	r.reads.Add(1)
	r.entered <- struct{}{}
	return r.Store.AllSettings(ctx)
}

// waitingCtx reports on waited when Current first waits on it, for a read
// another request runs.
type waitingCtx struct {
	context.Context
	once   sync.Once
	waited chan<- struct{}
}

func (w *waitingCtx) Done() <-chan struct{} {
	w.once.Do(func() { w.waited <- struct{}{} })
	return w.Context.Done()
}

// slowDatabase is a store whose settings table another transaction holds
// locked, so every read of it waits, until release.
func slowDatabase(t *testing.T, st *store.Store) (release func()) {
	t.Helper()
	tx, err := st.Pool().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `lock table settings in access exclusive mode`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Rollback(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

type snapshotOrError struct {
	snap settings.Snapshot
	err  error
}

func current(ctx context.Context, svc *settings.Service) <-chan snapshotOrError {
	out := make(chan snapshotOrError, 1)
	go func() {
		s, err := svc.Current(ctx)
		out <- snapshotOrError{s, err}
	}()
	return out
}

func TestReadersKeepTheCachedSettingsWhileTheDatabaseIsSlow(t *testing.T) {
	st := storetest.NewStore(t)
	reads := &readCounter{Store: st, entered: make(chan struct{}, 16)}
	clock := accounttest.NewClock(time.Now())
	svc, err := settings.NewService(reads, st, masterKey, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Set(context.Background(), map[string]string{settings.KeyPolicy: "always"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if snap, err := svc.Current(context.Background()); err != nil || snap.Policy() != mfa.PolicyAlways {
		t.Fatalf("settings %v, %v", snap.Policy(), err)
	}
	clock.Advance(settings.CacheTTL + time.Millisecond)
	for len(reads.entered) > 0 { // the reads so far
		<-reads.entered
	}

	release := slowDatabase(t, st)
	refresh := current(context.Background(), svc)
	<-reads.entered // that request now waits on the database
	// Requests whose context has ended could not wait: they are answered
	// from the cache at once.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		if snap, err := svc.Current(ended); err != nil || snap.Policy() != mfa.PolicyAlways {
			t.Fatalf("during a slow read: %v, %v; want the cached settings", snap.Policy(), err)
		}
	}
	release()
	if r := <-refresh; r.err != nil || r.snap.Policy() != mfa.PolicyAlways {
		t.Fatalf("the slow read: %v, %v", r.snap.Policy(), r.err)
	}
	if n := reads.reads.Load(); n != 3 { // Set's, the first Current's, the refresh
		t.Fatalf("%d reads of the settings table, want 3", n)
	}
}

func TestConcurrentReadsOfASlowDatabaseCollapseIntoOneQuery(t *testing.T) {
	st := storetest.NewStore(t)
	reads := &readCounter{Store: st, entered: make(chan struct{}, 16)}
	svc, err := settings.NewService(reads, st, masterKey, accounttest.NewClock(time.Now()).Now)
	if err != nil {
		t.Fatal(err)
	}
	release := slowDatabase(t, st)
	const requests = 8
	waited := make(chan struct{}, requests)
	results := make([]<-chan snapshotOrError, requests)
	for i := range results {
		results[i] = current(&waitingCtx{Context: context.Background(), waited: waited}, svc)
	}
	<-reads.entered
	for range requests - 1 { // every request but the one reading waits for its read
		<-waited
	}
	release()
	for _, r := range results {
		if res := <-r; res.err != nil || res.snap.Policy() != mfa.PolicyNever {
			t.Fatalf("settings %v, %v; want the defaults", res.snap.Policy(), res.err)
		}
	}
	if n := reads.reads.Load(); n != 1 {
		t.Fatalf("%d reads of the settings table for %d requests, want 1", n, requests)
	}
}
