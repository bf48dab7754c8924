// Package accounttest builds account services for tests: on a real store,
// with a clock the test moves instead of sleeping, and cheap hashing so that
// suites stay fast (package password checks the production parameters).
package accounttest

import (
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/store"
)

// Clock is a settable time source, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func NewClock(start time.Time) *Clock { return &Clock{now: start} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// CheapParams make argon2id cost microseconds instead of tens of milliseconds.
var CheapParams = password.Params{Memory: 64, Time: 1, Threads: 1}

// Deps are an account service's collaborators on st with the default limits,
// for a test to add to. params are the hashing parameters (CheapParams, or
// password.OWASP() to measure).
func Deps(st *store.Store, clock *Clock, params password.Params) account.Deps {
	return account.Deps{
		Users: st, Sessions: st, Failures: st, Audit: st, Signups: st,
		Hasher:      password.NewHasher(params, 0),
		Policy:      password.NewPolicy(),
		Limits:      account.DefaultLimits(),
		SignupRules: account.DefaultSignupRules(),
		Now:         clock.Now,
	}
}

// NewService wires an account service to st with the default limits.
func NewService(st *store.Store, clock *Clock, params password.Params) *account.Service {
	return account.NewService(Deps(st, clock, params))
}
