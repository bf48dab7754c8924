// Package risk assesses a password login for adaptive MFA: small signals (new
// device, impossible travel, untrusted address, new country, recent credential
// change) each return a finding an admin can read, and an Engine combines them
// into a confidence and a decision whether to ask for the second factor.
//
//	Attempt ─► Engine.Assess ─► each Signal.Assess ─► Finding (risk + reason, or unavailable)
//	                │
//	                └─ any High, or two Medium ─► low confidence ─► challenge
//	                   one Medium ─► medium (challenge if configured), else high
//
// A signal that is not configured to run (no GeoIP database) says so in its
// finding, which counts for nothing. A signal that fails (a storage error)
// never fails the login either, but counts as High: what it could not check
// may be what would have challenged the login. Signals read time from the attempt, not
// the wall clock. The package knows nothing of HTTP or SQL: it declares the
// storage it needs (History and each signal's own interface); package store
// implements them against Postgres.
package risk

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Attempt is a login whose password was right, about to be assessed.
type Attempt struct {
	UserID     string
	IP         netip.Addr // invalid when unknown
	DeviceHash []byte     // SHA-256 of the browser's long-lived device cookie; nil when the browser has none
	At         time.Time
}

// Level is how risky a finding makes the attempt: None < Medium < High.
type Level int

const (
	None Level = iota
	Medium
	High
)

func (l Level) String() string {
	switch l {
	case None:
		return "none"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Finding is what one signal says about an attempt.
type Finding struct {
	Signal      string // the signal's Name
	Risk        Level
	Unavailable bool   // the signal cannot run here (not configured); Reason says why
	Failed      bool   // the signal failed (Risk High); Reason says why
	Reason      string // one sentence for an admin
}

// Signal is one way of judging an attempt. An error means the signal failed;
// the Engine reports it as a failed finding of High risk. A signal that is
// not configured returns an unavailable finding instead, without error.
type Signal interface {
	Name() string
	Assess(ctx context.Context, a Attempt) (Finding, error)
}

// Login is one successful login in a user's history.
type Login struct {
	UserID     string
	At         time.Time
	IP         netip.Addr // invalid when unknown
	Country    string     // ISO 3166-1 alpha-2; empty when it could not be located
	DeviceHash []byte     // nil when the browser had no device cookie
}

// History is the record of a user's successful logins that signals compare an
// attempt with. The caller adds a login once it is let in (AddLogin; not named
// RecordLogin, which on the store records users.last_login_at).
type History interface {
	// LastLogin returns the user's most recent login; false when there is none.
	LastLogin(ctx context.Context, userID string) (Login, bool, error)
	SeenDevice(ctx context.Context, userID string, hash []byte) (bool, error)
	SeenCountry(ctx context.Context, userID, country string) (bool, error)
	AddLogin(ctx context.Context, l Login) error
}

// Place is where an address is, as far as a Locator knows.
type Place struct {
	City    string // English name; may be empty
	Country string // ISO 3166-1 alpha-2; may be empty
	Lat     float64
	Lon     float64
}

func (p Place) String() string {
	switch {
	case p.City != "" && p.Country != "":
		return p.City + " (" + p.Country + ")"
	case p.City != "":
		return p.City
	case p.Country != "":
		return p.Country
	}
	return fmt.Sprintf("%.2f, %.2f", p.Lat, p.Lon)
}

// Locator places an address on the map; false when it cannot.
type Locator interface {
	Locate(ip netip.Addr) (Place, bool)
}

// reasonNoGeoIP is the reason of the location signals without a Locator.
const reasonNoGeoIP = "GeoIP database not configured."

func unavailable(signal, reason string) Finding {
	return Finding{Signal: signal, Unavailable: true, Reason: reason}
}

// about says how long d is, for a reason: "40 min", "1 h", "2 h 30 min", "3 days".
func about(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
