package cache_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/cache"
)

// A load runs with the context of the caller that started it. When that
// caller goes away (a client that hangs up mid-request), the callers that
// joined its load still have a live request: they must get a value, not the
// leader's cancellation. Otherwise anyone who opens and drops requests can
// make other people's settings reads fail, and every caller that falls back
// to built-in defaults on a failed read then applies them.
func TestALoadWhoseCallerHangsUpDoesNotFailTheCallersThatJoinedIt(t *testing.T) {
	var loads atomic.Int32
	started := make(chan struct{}, 4)
	load := func(ctx context.Context) (string, error) {
		n := loads.Add(1)
		started <- struct{}{}
		if n == 1 {
			<-ctx.Done() // the first load is slow enough to outlive its caller
			return "", ctx.Err()
		}
		return "v1", nil
	}
	c := cache.New(time.Second, accounttest.NewClock(t0).Now, load)

	leaderCtx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	leader := get(leaderCtx, c)
	<-started
	waited := make(chan struct{}, 1)
	follower := get(&waiting{Context: context.Background(), waited: waited}, c)
	<-waited // the follower waits for the leader's load
	hangUp()
	<-leader

	select {
	case r := <-follower:
		expect(t, r, "v1")
	case <-time.After(5 * time.Second):
		t.Fatal("the follower got no answer within 5s")
	}
}
