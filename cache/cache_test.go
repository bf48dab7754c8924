package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/cache"
)

// source is a slow database: each load announces itself on started with a
// channel of its own, and returns what the test sends there.
type source struct {
	loads   atomic.Int32
	started chan chan result
}

type result struct {
	value string
	err   error
}

func newSource() *source { return &source{started: make(chan chan result, 16)} }

func (s *source) load(context.Context) (string, error) {
	s.loads.Add(1)
	reply := make(chan result)
	s.started <- reply
	r := <-reply
	return r.value, r.err
}

// waiting is a context that reports on waited when Get first waits on it:
// Get asks for Done only to wait for a load another caller runs.
type waiting struct {
	context.Context
	once   sync.Once
	waited chan<- struct{}
}

func (w *waiting) Done() <-chan struct{} {
	w.once.Do(func() { w.waited <- struct{}{} })
	return w.Context.Done()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// get calls c.Get in a goroutine and returns where its result will arrive.
func get(ctx context.Context, c *cache.Cache[string]) <-chan result {
	out := make(chan result, 1)
	go func() {
		v, err := c.Get(ctx)
		out <- result{v, err}
	}()
	return out
}

func expect(t *testing.T, r result, want string) {
	t.Helper()
	if r.err != nil || r.value != want {
		t.Fatalf("Get = %q, %v; want %q", r.value, r.err, want)
	}
}

// fill makes c hold value, fresh.
func fill(t *testing.T, c *cache.Cache[string], src *source, value string) {
	t.Helper()
	got := get(context.Background(), c)
	(<-src.started) <- result{value: value}
	expect(t, <-got, value)
}

// over is a context that has already ended: a Get with it cannot wait.
func over() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestConcurrentLoadsCollapseIntoOne(t *testing.T) {
	src := newSource()
	c := cache.New(time.Second, accounttest.NewClock(t0).Now, src.load)
	const callers = 8
	waited := make(chan struct{}, callers)
	results := make([]<-chan result, callers)
	for i := range results {
		results[i] = get(&waiting{Context: context.Background(), waited: waited}, c)
	}
	load := <-src.started
	for range callers - 1 { // every caller but the one loading waits for that load
		<-waited
	}
	load <- result{value: "v1"}
	for _, r := range results {
		expect(t, <-r, "v1")
	}
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads for %d concurrent callers, want 1", n, callers)
	}
}

func TestAnExpiredValueIsServedWhileOneCallerRefreshesIt(t *testing.T) {
	src := newSource()
	clock := accounttest.NewClock(t0)
	c := cache.New(time.Second, clock.Now, src.load)
	fill(t, c, src, "v1")
	clock.Advance(2 * time.Second)

	refreshed := get(context.Background(), c)
	load := <-src.started
	for range 3 {
		v, err := c.Get(over())
		expect(t, result{v, err}, "v1")
	}
	load <- result{value: "v2"}
	expect(t, <-refreshed, "v2")
	v, err := c.Get(over())
	expect(t, result{v, err}, "v2")
	if n := src.loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}

// A refresh that fails is cached for no one; while the last good value is
// at most MaxStale past its expiry the callers get it instead of the error,
// and after that the error.
func TestAFailedRefreshServesTheLastGoodValueForABoundedTime(t *testing.T) {
	src := newSource()
	clock := accounttest.NewClock(t0)
	c := cache.New(time.Second, clock.Now, src.load)
	fill(t, c, src, "v1")
	clock.Advance(2 * time.Second)
	errDown := errors.New("database down")
	got := get(context.Background(), c)
	(<-src.started) <- result{err: errDown}
	expect(t, <-got, "v1")

	clock.Advance(cache.MaxStale)
	got = get(context.Background(), c)
	(<-src.started) <- result{err: errDown}
	if r := <-got; !errors.Is(r.err, errDown) {
		t.Fatalf("past MaxStale: Get = %q, %v; want the load's error", r.value, r.err)
	}
	fill(t, c, src, "v2") // the next caller loads again
}

func TestAFailedFirstLoadFailsItsCallers(t *testing.T) {
	src := newSource()
	c := cache.New(time.Second, accounttest.NewClock(t0).Now, src.load)
	errDown := errors.New("database down")
	got := get(context.Background(), c)
	(<-src.started) <- result{err: errDown}
	if r := <-got; !errors.Is(r.err, errDown) {
		t.Fatalf("Get = %q, %v; want the load's error", r.value, r.err)
	}
}

// After a change this replica made, no one is served what it replaced, not
// even by a load that was under way when the change was made.
func TestInvalidateDiscardsWhatWasReadBefore(t *testing.T) {
	src := newSource()
	c := cache.New(time.Hour, accounttest.NewClock(t0).Now, src.load)
	fill(t, c, src, "v1")
	c.Invalidate()

	before := get(context.Background(), c)
	early := <-src.started
	c.Invalidate() // the change commits while that load reads

	if v, err := c.Get(over()); !errors.Is(err, context.Canceled) {
		t.Fatalf("after Invalidate: Get = %q, %v; want to need a new load", v, err)
	}
	after := get(context.Background(), c)
	late := <-src.started
	early <- result{value: "v1, read before the change"}
	expect(t, <-before, "v1, read before the change")
	late <- result{value: "v2"}
	expect(t, <-after, "v2")
	v, err := c.Get(over())
	expect(t, result{v, err}, "v2")
}
