package mfa

import (
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
)

// Rules are the SMS factor's numbers. DefaultRules are the values
// docs/security.md explains and NIST 800-63B calls for; tests move the clock
// rather than shorten them, except the budgets they need to reach.
type Rules struct {
	CodeTTL        time.Duration // a code works this long after it is sent
	MaxAttempts    int           // wrong codes that end a challenge
	ResendCooldown time.Duration // time between two sends of one challenge

	// Consecutive failures of one user, across challenges, resends and
	// recovery codes, reset only by a success: every LockAfter of them lock
	// MFA for LockFor; AccountLockAfter lock it until an admin resets MFA.
	LockAfter        int
	LockFor          time.Duration
	AccountLockAfter int

	// Anti-fraud (SMS pumping) limits on sends, new challenges and resends alike.
	PhoneLimits   []limits.Limit       // per phone number
	IPLimits      []limits.Limit       // per client address; IPv6 per /64
	UserLimits    []limits.Limit       // per user
	CountryLimits map[int]limits.Limit // per calling code, for the countries listed
	GlobalLimits  []limits.Limit       // the whole installation's budget

	// PhoneOff is the admin's Phone Message switch turned off: no text
	// message is sent on any path (ErrPhoneOff).
	PhoneOff bool

	// EnrollShare is the percent of each GlobalLimits budget that codes to
	// numbers being enrolled may spend (the global_enroll limit). Anyone who
	// can sign up can ask for those; what it leaves is kept for codes to
	// phones already verified (sign-in, password reset), so that an
	// enrollment flood cannot stop users from signing in. Outside 1–99 it
	// keeps nothing back.
	EnrollShare int

	// A browser the user asks to remember skips the SMS challenge for
	// TrustedBrowserFor, never more than TrustedBrowserMax; zero turns
	// remembering off.
	TrustedBrowserFor time.Duration
	TrustedBrowserMax time.Duration
}

func DefaultRules() Rules {
	return Rules{
		CodeTTL:          5 * time.Minute,
		MaxAttempts:      5,
		ResendCooldown:   30 * time.Second,
		LockAfter:        10,
		LockFor:          15 * time.Minute,
		AccountLockAfter: 100,
		PhoneLimits:      []limits.Limit{{Max: 3, Window: 10 * time.Minute}, {Max: 10, Window: 24 * time.Hour}},
		IPLimits:         []limits.Limit{{Max: 10, Window: time.Hour}},
		UserLimits:       []limits.Limit{{Max: 10, Window: time.Hour}},
		GlobalLimits:     []limits.Limit{{Max: 1000, Window: time.Hour}},
		EnrollShare:      50,

		TrustedBrowserFor: 30 * 24 * time.Hour,
		TrustedBrowserMax: 90 * 24 * time.Hour,
	}
}
