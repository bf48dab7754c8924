package risk_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// An admin blocks a network to stop logins from it passing on a password
// alone. When the block list cannot be read, the engine cannot tell whether
// the address is blocked: it must ask for the second factor rather than let
// a login from a browser the user has used before through, which is what it
// would do for an address it knew to be clean.
func TestABlockListThatCannotBeReadDoesNotWaveTheLoginThrough(t *testing.T) {
	blocked := risk.UntrustedIP{Blocked: func(context.Context) ([]netip.Prefix, error) { return nil, errDown }}
	knownDevice := fixed{"new_device", risk.Finding{Risk: risk.None, Reason: "The user has logged in from this browser before."}, nil}
	a := risk.NewEngine(true, blocked, knownDevice).
		Assess(ctx, risk.Attempt{UserID: "ann", IP: netip.MustParseAddr("203.0.113.7"), At: t0})
	if !a.Challenge {
		t.Fatalf("with the block list unreadable the login is not challenged: %s (%+v)", a.Summary, a.Findings)
	}
}
