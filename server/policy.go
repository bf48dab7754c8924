package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
)

// policyCacheTTL bounds how long a replica may act on an old MFA policy after
// an admin changes it.
const policyCacheTTL = time.Second

// policyCache reads the tenant's MFA policy at most once per TTL.
type policyCache struct {
	st  *store.Store
	now func() time.Time

	mu      sync.Mutex
	policy  mfa.Policy
	expires time.Time
}

func (c *policyCache) get(ctx context.Context) (mfa.Policy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Before(c.expires) {
		return c.policy, nil
	}
	v, err := c.st.Setting(ctx, mfa.PolicySettingKey)
	switch {
	case errors.Is(err, store.ErrSettingNotFound):
		c.policy = mfa.DefaultPolicy
	case err != nil:
		return "", err
	default:
		p, perr := mfa.ParsePolicy(v)
		if perr != nil {
			// An unreadable value must not switch MFA off.
			p = mfa.PolicyAlways
		}
		c.policy = p
	}
	c.expires = c.now().Add(policyCacheTTL)
	return c.policy, nil
}
