package mfa

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// AdaptiveSources are what the adaptive policy reads besides the user's
// factors.
type AdaptiveSources struct {
	History  risk.History
	Failures risk.FailureCounter
	// Users tells when a user's password changed.
	Users interface {
		UserByID(ctx context.Context, id string) (account.User, error)
	}
	// Locator places addresses (GeoIP); nil turns the location signals off.
	Locator risk.Locator
	// Tenant is the admin's run-time settings: the block list, and whether
	// medium confidence is challenged (ChallengeMedium when they cannot be
	// read).
	Tenant interface {
		BlockedNetworks(ctx context.Context) ([]netip.Prefix, error)
		ChallengeMedium(ctx context.Context, def bool) bool
	}
	ChallengeMedium bool
}

// RiskEngine is the adaptive policy as Gatehouse runs it, in production and
// in tests alike: every signal of package risk, in the order their findings
// are listed to an admin, following the admin's settings.
func (s *Service) RiskEngine(src AdaptiveSources) *risk.Engine {
	return risk.NewEngine(src.ChallengeMedium,
		risk.NewDevice{History: src.History},
		risk.ImpossibleTravel{History: src.History, Locator: src.Locator},
		risk.UntrustedIP{Blocked: src.Tenant.BlockedNetworks, Failures: src.Failures},
		risk.NewCountry{History: src.History, Locator: src.Locator},
		risk.RecentCredentialChange{Credentials: credentialChanges{users: src.Users, mfa: s}},
	).ChallengeMediumFrom(func(ctx context.Context) bool {
		return src.Tenant.ChallengeMedium(ctx, src.ChallengeMedium)
	}).LogTo(s.log)
}

// credentialChanges tells the recent-change signal when the password and the
// phone last changed.
type credentialChanges struct {
	users interface {
		UserByID(ctx context.Context, id string) (account.User, error)
	}
	mfa *Service
}

// firstPasswordSlack is how long after the account's creation its password
// still counts as the first one: the signup or import that set it stores
// the account and the password a moment apart.
const firstPasswordSlack = time.Minute

func (c credentialChanges) Credentials(ctx context.Context, userID string) (password, phone time.Time, err error) {
	u, err := c.users.UserByID(ctx, userID)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("load user: %w", err)
	}
	if u.PasswordChangedAt.After(u.CreatedAt.Add(firstPasswordSlack)) {
		password = u.PasswordChangedAt
	}
	f, ok, err := c.mfa.Factor(ctx, userID)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if ok {
		phone = f.VerifiedAt
	}
	return password, phone, nil
}
