package loadgen

import (
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Stats collects what one mode's run measured. Each virtual user records into
// its own Stats and the run merges them at the end, so recording takes no lock.
type Stats struct {
	Steps    map[string][]time.Duration // per step of a journey, in completion order
	Journeys []time.Duration            // whole journeys that succeeded
	Errors   map[string]int             // "step: HTTP 500", "token: timeout", …
	Sigs     int                        // RS256 signatures seen in token responses
	Tokens   int                        // token responses counted in Sigs
}

func newStats() *Stats {
	return &Stats{Steps: map[string][]time.Duration{}, Errors: map[string]int{}}
}

func (s *Stats) step(name string, d time.Duration) { s.Steps[name] = append(s.Steps[name], d) }

func (s *Stats) fail(kind string) { s.Errors[kind]++ }

func (s *Stats) merge(o *Stats) {
	for k, v := range o.Steps {
		s.Steps[k] = append(s.Steps[k], v...)
	}
	s.Journeys = append(s.Journeys, o.Journeys...)
	for k, v := range o.Errors {
		s.Errors[k] += v
	}
	s.Sigs += o.Sigs
	s.Tokens += o.Tokens
}

// ErrorCount is the number of failed journeys or requests.
func (s *Stats) ErrorCount() int {
	n := 0
	for _, v := range s.Errors {
		n += v
	}
	return n
}

// ErrorKinds lists the error kinds, most frequent first.
func (s *Stats) ErrorKinds() []string {
	kinds := slices.Collect(maps.Keys(s.Errors))
	sort.Slice(kinds, func(i, j int) bool {
		if s.Errors[kinds[i]] != s.Errors[kinds[j]] {
			return s.Errors[kinds[i]] > s.Errors[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	return kinds
}

// SigsPerToken is the mean number of RS256 signatures in a token response.
func (s *Stats) SigsPerToken() float64 {
	if s.Tokens == 0 {
		return 0
	}
	return float64(s.Sigs) / float64(s.Tokens)
}

// Latency summarizes a set of durations.
type Latency struct {
	N             int
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// Summarize sorts ds in place and returns its percentiles.
func Summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{N: len(ds), P50: Percentile(ds, 50), P95: Percentile(ds, 95), P99: Percentile(ds, 99), Max: ds[len(ds)-1]}
}

// Percentile returns the nearest-rank p-th percentile of sorted: the
// smallest value that at least p percent of the values do not exceed.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// Median returns the median of xs (the mean of the middle two for an even
// count); xs is sorted in place.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// collector hands out per-user Stats and merges them.
type collector struct {
	mu  sync.Mutex
	all []*Stats
}

func (c *collector) new() *Stats {
	s := newStats()
	c.mu.Lock()
	c.all = append(c.all, s)
	c.mu.Unlock()
	return s
}

func (c *collector) merged() *Stats {
	out := newStats()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.all {
		out.merge(s)
	}
	return out
}

// NewStats returns empty Stats, for calling a journey directly.
func NewStats() *Stats { return newStats() }
