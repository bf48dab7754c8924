package risk_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

const time24 = 24 * time.Hour

func TestImpossibleTravel(t *testing.T) {
	lastFrom := func(ip netip.Addr, ago time.Duration) []risk.Login {
		return []risk.Login{
			{UserID: "ann", At: t0.Add(-30 * time24), IP: newYork},
			{UserID: "ann", At: t0.Add(-ago), IP: ip},
			{UserID: "bob", At: t0.Add(-time.Minute), IP: newYork},
		}
	}
	for _, tc := range []struct {
		name     string
		history  []risk.Login
		locator  risk.Locator
		maxSpeed float64
		ip       netip.Addr
		want     want
	}{
		{"London then New York an hour later", lastFrom(london, time.Hour), places, 0, newYork,
			want{risk: risk.High, reason: "Moved 5,570 km in 1 h since the last login from London (GB) — 5,570 km/h."}},
		{"London then New York a day later", lastFrom(london, time24), places, 0, newYork,
			want{risk: risk.None, reason: "Moved 5,570 km in 24 h since the last login from London (GB) — 230 km/h."}},
		{"London then Paris in 20 minutes", lastFrom(london, 20*time.Minute), places, 0, netip.MustParseAddr("2.2.2.2"),
			want{risk: risk.High, reason: "Moved 340 km in 20 min since the last login from London (GB) — 1,030 km/h."}},
		{"a lower speed limit", lastFrom(london, 2*time.Hour), places, 200, netip.MustParseAddr("2.2.2.2"),
			want{risk: risk.None, reason: "Moved 340 km in 2 h since the last login from London (GB) — 170 km/h."}},
		{"same instant", lastFrom(london, 0), places, 0, newYork,
			want{risk: risk.High, reason: "Moved 5,570 km in 1 min since the last login from London (GB) — 334,250 km/h."}},
		{"under 100 km is noise", lastFrom(london, time.Minute), places, 0, netip.MustParseAddr("81.2.69.1"),
			want{risk: risk.None, reason: "Within 100 km of the last login, from London (GB)."}},
		{"first login", nil, places, 0, newYork,
			want{risk: risk.None, reason: "No earlier login to compare with."}},
		{"no locator", lastFrom(london, time.Hour), nil, 0, newYork,
			want{unavailable: true, reason: "GeoIP database not configured."}},
		{"this address not located", lastFrom(london, time.Hour), places, 0, netip.MustParseAddr("192.0.2.1"),
			want{unavailable: true, reason: "Could not locate the address 192.0.2.1."}},
		{"last address unknown", lastFrom(netip.Addr{}, time.Hour), places, 0, newYork,
			want{unavailable: true, reason: "Could not locate the address of the last login (unknown)."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := risk.ImpossibleTravel{History: &fakeHistory{logins: tc.history}, Locator: tc.locator, MaxSpeedKmh: tc.maxSpeed}
			check(t, s, risk.Attempt{UserID: "ann", IP: tc.ip, DeviceHash: deviceA, At: t0}, tc.want, false)
		})
	}
	t.Run("storage fails", func(t *testing.T) {
		s := risk.ImpossibleTravel{History: &fakeHistory{err: errDown}, Locator: places}
		check(t, s, risk.Attempt{UserID: "ann", IP: newYork, At: t0}, want{}, true)
	})
}
