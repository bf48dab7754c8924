package limits_test

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctx = context.Background()
	// t0 is 12:34:56 UTC, inside the 12:30 ten-minute window and the noon hour.
	t0 = time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC)
)

func TestCountersAreOnePerLimitOnInWindowsAlignedToUTC(t *testing.T) {
	got := limits.Counters("phone", "phone:ab", t0,
		limits.Limit{Max: 3, Window: 10 * time.Minute},
		limits.Limit{Max: 0, Window: time.Hour}, // off
		limits.Limit{Max: 5, Window: 0},         // off
		limits.Limit{Max: 10, Window: 24 * time.Hour})
	want := []limits.Counter{
		{Name: "phone", Key: "phone:ab/600s", WindowStart: t0.Truncate(time.Hour).Add(30 * time.Minute),
			WindowEnd: t0.Truncate(time.Hour).Add(40 * time.Minute), Max: 3},
		{Name: "phone", Key: "phone:ab/86400s", WindowStart: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			WindowEnd: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Max: 10},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("counters =\n%+v\nwant\n%+v", got, want)
	}
	if cs := limits.Counters("ip", "ip:x", t0); cs != nil {
		t.Fatalf("no limits gave %v, want no counters", cs)
	}
}

func TestIPKeyCountsIPv6PerSlash64AndUnknownAddressesTogether(t *testing.T) {
	tests := []struct {
		name, ip, want string
	}{
		{"IPv4 as it is", "192.0.2.7", "192.0.2.7"},
		{"IPv4-mapped IPv6 as IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"IPv6 per /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"another host of the same /64 alike", "2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"unknown under one shared key", "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ip netip.Addr
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			if got := limits.IPKey(ip); got != tt.want {
				t.Fatalf("IPKey(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

func hourCounter(name, key string, max int, start time.Time) limits.Counter {
	return limits.Counter{Name: name, Key: key, WindowStart: start, WindowEnd: start.Add(time.Hour), Max: max}
}

func take(t *testing.T, st *store.Store, cs ...limits.Counter) (limits.Counter, bool) {
	t.Helper()
	refused, taken, err := limits.Take(ctx, st, cs)
	if err != nil {
		t.Fatal(err)
	}
	return refused, taken
}

func read(t *testing.T, st *store.Store, cs ...limits.Counter) []int {
	t.Helper()
	n, err := st.ReadCounters(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTakeCountsInEveryCounterOrInNone(t *testing.T) {
	st := storetest.NewStore(t)
	hour := t0.Truncate(time.Hour)
	wide, narrow := hourCounter("global", "global/3600s", 10, hour), hourCounter("phone", "phone:ab/3600s", 1, hour)
	if _, taken := take(t, st, wide, narrow); !taken {
		t.Fatal("the first action was refused")
	}
	refused, taken := take(t, st, wide, narrow)
	if taken || refused.Name != "phone" {
		t.Fatalf("second action: taken %v, refused by %+v; want refused by the phone limit", taken, refused)
	}
	if got := read(t, st, wide, narrow); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("counts = %v after a refusal, want [1 1]: a refused action counts nowhere", got)
	}
	if _, taken := take(t, st, hourCounter("phone", "phone:ab/3600s", 1, hour.Add(time.Hour))); !taken {
		t.Fatal("the next window was refused; want a fresh count")
	}
}

func TestTakeReportsTheLimitThatKeepsTheCallerWaitingLongest(t *testing.T) {
	st := storetest.NewStore(t)
	hour := t0.Truncate(time.Hour)
	short := hourCounter("ip", "ip:a/3600s", 1, hour)
	long := limits.Counter{Name: "ip", Key: "ip:a/86400s", WindowStart: hour, WindowEnd: hour.Add(24 * time.Hour), Max: 1}
	same := hourCounter("user", "a-user/3600s", 1, hour)
	take(t, st, short, long, same)

	refused, taken := take(t, st, same, short, long)
	if taken || refused.Key != long.Key {
		t.Fatalf("refused by %+v, want the day's counter, whose window ends last", refused)
	}
	refused, taken = take(t, st, short, same)
	if taken || refused.Key != same.Key {
		t.Fatalf("of two ending together, refused by %q, want the first by key %q", refused.Key, same.Key)
	}
}

func TestTakeOfNoCountersIsAllowed(t *testing.T) {
	if _, taken, err := limits.Take(ctx, storetest.NewStore(t), nil); err != nil || !taken {
		t.Fatalf("taken %v, %v; want an action no limit applies to allowed", taken, err)
	}
}

// Two callers taking the same counters listed in opposite orders would wait
// on each other's rows were Take not to order them; Postgres would then end
// one with a deadlock error.
func TestConcurrentTakesInAnyOrderNeitherDeadlockNorOvercount(t *testing.T) {
	st := storetest.NewStore(t)
	hour := t0.Truncate(time.Hour)
	a, b := hourCounter("a", "a/3600s", 300, hour), hourCounter("b", "b/3600s", 300, hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for i := range 400 {
		wg.Go(func() {
			cs := []limits.Counter{a, b}
			if i%2 == 1 {
				cs = []limits.Counter{b, a}
			}
			_, ok, err := limits.Take(ctx, st, cs)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got := read(t, st, a, b); taken != 300 || !slices.Equal(got, []int{300, 300}) {
		t.Fatalf("%d of 400 taken, counts %v; want exactly 300 in each", taken, got)
	}
}
