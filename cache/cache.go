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

// LoadTimeout bounds a load that no caller's request can cancel: one rerun
// after the request that started a load went away.
const LoadTimeout = 5 * time.Second

// MaxStale is how long past its expiry a snapshot is still served when
// refreshing it fails: a database that is down for a moment keeps the rules
// last read (an admin's tightened settings among them) instead of failing
// every caller, who might then fall back to looser defaults. After that the
// failure reaches the callers.
const MaxStale = 5 * time.Minute

// Cache holds the value load returns for TTL. It is safe for concurrent use;
// the zero value is not: use New.
type Cache[T any] struct {
	load func(context.Context) (T, error)
	ttl  time.Duration
	now  func() time.Time

	snap atomic.Pointer[snapshot[T]]
	gen  atomic.Uint64 // bumped by Invalidate; a snapshot of an older one is never served

	mu     sync.Mutex // guards flight and detachNext; never held while loading
	flight *flight[T]
	// detachNext is set when a load failed because the request that started
	// it went away: the next load runs on a context no request can cancel, so
	// that one who opens and drops requests cannot fail the others' reads.
	detachNext bool
}

type snapshot[T any] struct {
	value   T
	expires time.Time
	gen     uint64
}

// flight is one load in progress; done closes when value and err are set.
type flight[T any] struct {
	gen      uint64
	detached bool
	done     chan struct{}
	value    T
	err      error
	// abandoned is set (before done closes) when the load failed after the
	// context of the caller that started it ended: its error is that
	// caller's, not the others'.
	abandoned bool
}

// New caches what load returns for ttl, on the clock now (time.Now when nil).
func New[T any](ttl time.Duration, now func() time.Time, load func(context.Context) (T, error)) *Cache[T] {
	if now == nil {
		now = time.Now
	}
	return &Cache[T]{load: load, ttl: ttl, now: now}
}

// Get returns the cached value: the current snapshot while it is fresh; an
// expired one while another caller is refreshing it, or for MaxStale past its
// expiry when refreshing it failed; else it loads, joining the load already
// in flight if there is one. Every caller waits on its own context. A load
// runs with the context of the caller that started it, so that its request's
// deadline bounds it; if that caller goes away the callers still waiting run
// it again, on a context no request cancels, bounded by LoadTimeout. A failed
// load is cached for no one.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	var zero T
	for {
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
				return zero, err
			}
			var leader bool
			if f, leader = c.join(gen); leader {
				go c.run(ctx, f)
			}
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		if f.err == nil {
			return f.value, nil
		}
		if f.abandoned && ctx.Err() == nil {
			continue // the next load is detached: this loop turns at most once more per abandonment
		}
		if usable && c.now().Before(s.expires.Add(MaxStale)) {
			return s.value, nil
		}
		return zero, f.err
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
	c.flight = &flight[T]{gen: gen, detached: c.detachNext, done: make(chan struct{})}
	return c.flight, true
}

func (c *Cache[T]) run(ctx context.Context, f *flight[T]) {
	defer func() {
		c.mu.Lock()
		if c.flight == f {
			c.flight = nil
		}
		if f.abandoned {
			c.detachNext = true
		} else if f.detached {
			c.detachNext = false
		}
		c.mu.Unlock()
		close(f.done)
	}()
	lctx := ctx
	if f.detached {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), LoadTimeout)
		defer cancel()
	}
	f.value, f.err = c.load(lctx)
	f.abandoned = f.err != nil && !f.detached && ctx.Err() != nil
	// A load that began before an Invalidate may have read what the change
	// replaced: it answers its own callers but is not kept.
	if f.err == nil && f.gen == c.gen.Load() {
		c.snap.Store(&snapshot[T]{value: f.value, expires: c.now().Add(c.ttl), gen: f.gen})
	}
}
