// Package cache keeps a value read from the database for a short time, for
// every request of a replica to share: the tenant's settings, the registered
// web origins. A read never waits on another's query when a value is at
// hand: the value is an immutable snapshot behind an atomic pointer, and
// while one caller refreshes an expired snapshot the others go on with it.
// Concurrent refreshes collapse into one query; only a cache that has no
// value yet (or was invalidated) makes callers wait, and then for that one
// query.
package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Cache holds the value load returns for TTL. It is safe for concurrent use;
// the zero value is not: use New.
type Cache[T any] struct {
	load func(context.Context) (T, error)
	ttl  time.Duration
	now  func() time.Time

	snap atomic.Pointer[snapshot[T]]
	gen  atomic.Uint64 // bumped by Invalidate; a snapshot of an older one is never served

	mu     sync.Mutex // guards flight only; never held while loading
	flight *flight[T]
}

type snapshot[T any] struct {
	value   T
	expires time.Time
	gen     uint64
}

// flight is one load in progress; done closes when value and err are set.
type flight[T any] struct {
	gen   uint64
	done  chan struct{}
	value T
	err   error
}

// New caches what load returns for ttl, on the clock now (time.Now when nil).
func New[T any](ttl time.Duration, now func() time.Time, load func(context.Context) (T, error)) *Cache[T] {
	if now == nil {
		now = time.Now
	}
	return &Cache[T]{load: load, ttl: ttl, now: now}
}

// Get returns the cached value: the current snapshot while it is fresh; an
// expired one while another caller is refreshing it; else it loads, joining
// the load already in flight if there is one. The load runs with the
// context of the caller that started it, so that its request's deadline
// bounds it. A failed load is returned to the callers that waited for it and
// cached for no one.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	gen := c.gen.Load()
	s := c.snap.Load()
	usable := s != nil && s.gen == gen
	if usable && c.now().Before(s.expires) {
		return s.value, nil
	}
	f := c.inFlight(gen)
	if f != nil && usable {
		return s.value, nil
	}
	if f == nil {
		if err := ctx.Err(); err != nil {
			var zero T
			return zero, err
		}
		var leader bool
		if f, leader = c.join(gen); leader {
			c.run(ctx, f)
		}
	}
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Invalidate makes the next Get load afresh and wait for it, as after a
// change this replica made itself: a load that began before is not served.
func (c *Cache[T]) Invalidate() {
	c.gen.Add(1)
}

// inFlight returns the load in flight for gen, or nil.
func (c *Cache[T]) inFlight(gen uint64) *flight[T] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight != nil && c.flight.gen == gen {
		return c.flight
	}
	return nil
}

// join returns the load in flight for gen, or starts one that the caller
// (the leader) must run.
func (c *Cache[T]) join(gen uint64) (*flight[T], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight != nil && c.flight.gen == gen {
		return c.flight, false
	}
	c.flight = &flight[T]{gen: gen, done: make(chan struct{})}
	return c.flight, true
}

func (c *Cache[T]) run(ctx context.Context, f *flight[T]) {
	defer func() {
		c.mu.Lock()
		if c.flight == f {
			c.flight = nil
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.value, f.err = c.load(ctx)
	// A load that began before an Invalidate may have read what the change
	// replaced: it answers its own callers but is not kept.
	if f.err == nil && f.gen == c.gen.Load() {
		c.snap.Store(&snapshot[T]{value: f.value, expires: c.now().Add(c.ttl), gen: f.gen})
	}
}
