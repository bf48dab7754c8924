package risk_test

import (
	"net/netip"
	"testing"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

func TestNewCountry(t *testing.T) {
	fromGB := []risk.Login{{UserID: "ann", At: t0.Add(-time24), IP: london, Country: "GB"}, {UserID: "bob", At: t0, IP: newYork, Country: "US"}}
	for _, tc := range []struct {
		name    string
		history []risk.Login
		locator risk.Locator
		ip      netip.Addr
		want    want
	}{
		{"known country", fromGB, places, netip.MustParseAddr("81.2.69.1"),
			want{risk: risk.None, reason: "The user has logged in from GB before."}},
		{"new country", fromGB, places, newYork,
			want{risk: risk.Medium, reason: "First login from New York (US)."}},
		{"first login ever", nil, places, newYork,
			want{risk: risk.None, reason: "First login: no earlier countries to compare with."}},
		{"no locator", fromGB, nil, newYork,
			want{unavailable: true, reason: "GeoIP database not configured."}},
		{"not located", fromGB, places, netip.MustParseAddr("192.0.2.1"),
			want{unavailable: true, reason: "Could not find the country of the address 192.0.2.1."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := risk.NewCountry{History: &fakeHistory{logins: tc.history}, Locator: tc.locator}
			check(t, s, risk.Attempt{UserID: "ann", IP: tc.ip, At: t0}, tc.want, false)
		})
	}
	t.Run("storage fails", func(t *testing.T) {
		s := risk.NewCountry{History: &fakeHistory{logins: fromGB, err: errDown}, Locator: places}
		check(t, s, risk.Attempt{UserID: "ann", IP: newYork, At: t0}, want{}, true)
	})
}
