package risk_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// engineOnStore is the adaptive engine as the server wires it, on a fresh
// database, for one user.
type engineOnStore struct {
	st      *store.Store
	user    string
	locator risk.Locator
	engine  *risk.Engine

	mu      sync.Mutex
	blocked []netip.Prefix
}

func newEngineOnStore(t *testing.T, locator risk.Locator) *engineOnStore {
	t.Helper()
	st := storetest.NewStore(t)
	u, err := st.CreateUser(ctx, account.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "$argon2id$x", CreatedAt: t0.Add(-90 * time24)})
	if err != nil {
		t.Fatal(err)
	}
	e := &engineOnStore{st: st, user: u.ID, locator: locator}
	e.engine = risk.NewEngine(false,
		risk.NewDevice{History: st},
		risk.ImpossibleTravel{History: st, Locator: locator},
		risk.UntrustedIP{Blocked: e.blockList, Failures: st},
		risk.NewCountry{History: st, Locator: locator},
		// The password and phone change times are not the store's part here.
		risk.RecentCredentialChange{Credentials: fakeCredentials{password: t0.Add(-60 * time24)}},
	)
	return e
}

func (e *engineOnStore) blockList(context.Context) ([]netip.Prefix, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.blocked, nil
}

func (e *engineOnStore) assess(ip netip.Addr, device []byte, at time.Time) risk.Assessment {
	return e.engine.Assess(ctx, risk.Attempt{UserID: e.user, IP: ip, DeviceHash: device, At: at})
}

// loggedIn records a login the way the server does once it lets one in.
func (e *engineOnStore) loggedIn(t *testing.T, ip netip.Addr, device []byte, at time.Time) {
	t.Helper()
	var country string
	if e.locator != nil {
		if p, ok := e.locator.Locate(ip); ok {
			country = p.Country
		}
	}
	if err := e.st.AddLogin(ctx, risk.Login{UserID: e.user, At: at, IP: ip, Country: country, DeviceHash: device}); err != nil {
		t.Fatal(err)
	}
}

func findings(a risk.Assessment) map[string]risk.Finding {
	m := make(map[string]risk.Finding)
	for _, f := range a.Findings {
		m[f.Signal] = f
	}
	return m
}

func expect(t *testing.T, a risk.Assessment, confidence risk.Confidence, challenge bool, summary string, want map[string]want) {
	t.Helper()
	if a.Confidence != confidence || a.Challenge != challenge || a.Summary != summary {
		t.Errorf("assessment %s challenge=%v %q; want %s challenge=%v %q", a.Confidence, a.Challenge, a.Summary, confidence, challenge, summary)
	}
	if len(a.Findings) != 5 {
		t.Errorf("%d findings, want one per signal (5)", len(a.Findings))
	}
	got := findings(a)
	for signal, w := range want {
		f := got[signal]
		if f.Risk != w.risk || f.Unavailable != w.unavailable || f.Reason != w.reason {
			t.Errorf("%s: %v unavailable=%v %q\nwant %v unavailable=%v %q", signal, f.Risk, f.Unavailable, f.Reason, w.risk, w.unavailable, w.reason)
		}
	}
}

var calm = map[string]want{
	"new_device":               {risk: risk.None, reason: "The user has logged in from this browser before."},
	"impossible_travel":        {risk: risk.None, reason: "Within 100 km of the last login, from London (GB)."},
	"untrusted_ip":             {risk: risk.None, reason: "0 failed logins from 81.2.69.160 in the last 24 h, across accounts."},
	"new_country":              {risk: risk.None, reason: "The user has logged in from GB before."},
	"recent_credential_change": {risk: risk.None, reason: "No password or phone change in the last 7 days."},
}

func TestEngineOnTheStore(t *testing.T) {
	geo := testGeoIP(t)

	t.Run("first login: only the device is new", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		expect(t, e.assess(london, deviceA, t0), risk.ConfidenceMedium, false, "medium confidence: new device", map[string]want{
			"new_device":        {risk: risk.Medium, reason: "First login from this browser."},
			"impossible_travel": {risk: risk.None, reason: "No earlier login to compare with."},
			"new_country":       {risk: risk.None, reason: "First login: no earlier countries to compare with."},
			"untrusted_ip":      calm["untrusted_ip"],
		})
	})

	t.Run("same browser, same place", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		e.loggedIn(t, london, deviceA, t0.Add(-time24))
		expect(t, e.assess(london, deviceA, t0), risk.ConfidenceHigh, false, "high confidence", calm)
	})

	t.Run("London, then New York an hour later", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		e.loggedIn(t, london, deviceA, t0.Add(-30*time24))
		e.loggedIn(t, london, deviceA, t0.Add(-time.Hour))
		expect(t, e.assess(newYork, deviceA, t0), risk.ConfidenceLow, true, "low confidence: impossible travel, new country", map[string]want{
			"impossible_travel": {risk: risk.High, reason: "Moved 5,570 km in 1 h since the last login from London (GB) — 5,570 km/h."},
			"new_country":       {risk: risk.Medium, reason: "First login from New York (US)."},
			"new_device":        calm["new_device"],
		})
	})

	t.Run("an address the admins blocked", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		e.loggedIn(t, london, deviceA, t0.Add(-time24))
		e.mu.Lock()
		e.blocked = []netip.Prefix{netip.MustParsePrefix("81.2.69.0/24")}
		e.mu.Unlock()
		expect(t, e.assess(london, deviceA, t0), risk.ConfidenceLow, true, "low confidence: untrusted ip", map[string]want{
			"untrusted_ip": {risk: risk.High, reason: "The address 81.2.69.160 is in the block list (81.2.69.0/24)."},
			"new_device":   calm["new_device"],
		})
	})

	t.Run("20 failed logins from the address across accounts", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		e.loggedIn(t, london, deviceA, t0.Add(-time24))
		for i := range 20 {
			email := []string{"ann@example.com", "bob@example.com", "nobody@example.com"}[i%3]
			if err := e.st.RecordFailure(ctx, email, london, t0.Add(-time.Duration(i)*time.Hour), 10, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		expect(t, e.assess(london, deviceA, t0), risk.ConfidenceLow, true, "low confidence: untrusted ip", map[string]want{
			"untrusted_ip": {risk: risk.High, reason: "20 failed logins from 81.2.69.160 in the last 24 h, across accounts."},
		})
	})

	t.Run("no GeoIP database: the rest is still assessed", func(t *testing.T) {
		e := newEngineOnStore(t, nil)
		e.loggedIn(t, london, deviceA, t0.Add(-time.Hour))
		expect(t, e.assess(newYork, deviceB, t0), risk.ConfidenceMedium, false,
			"medium confidence: new device; could not assess: impossible travel, new country", map[string]want{
				"impossible_travel":        {unavailable: true, reason: "GeoIP database not configured."},
				"new_country":              {unavailable: true, reason: "GeoIP database not configured."},
				"new_device":               {risk: risk.Medium, reason: "First login from this browser."},
				"untrusted_ip":             {risk: risk.None, reason: "0 failed logins from 216.160.83.56 in the last 24 h, across accounts."},
				"recent_credential_change": calm["recent_credential_change"],
			})
	})

	t.Run("a failing store fails the findings, not the login, and challenges it", func(t *testing.T) {
		e := newEngineOnStore(t, geo)
		e.st.Close()
		a := e.assess(london, deviceA, t0)
		for _, f := range a.Findings {
			if f.Signal == "recent_credential_change" {
				continue
			}
			if !f.Failed || f.Unavailable || f.Risk != risk.High || !strings.HasPrefix(f.Reason, "could not run: ") {
				t.Errorf("%s: failed=%v unavailable=%v risk=%s %q; want failed, high, could not run: …", f.Signal, f.Failed, f.Unavailable, f.Risk, f.Reason)
			}
		}
		if !a.Challenge || a.Confidence != risk.ConfidenceLow {
			t.Errorf("with the store failing: %s challenge=%v; want low confidence, challenged", a.Confidence, a.Challenge)
		}
	})
}
