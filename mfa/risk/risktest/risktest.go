// Package risktest builds a small GeoIP City database for tests: London
// (81.2.69.0/24, GB) and New York (216.160.83.0/24, US), MaxMind's own test
// ranges.
package risktest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// Addresses in the test database.
const (
	LondonIP  = "81.2.69.142"
	NewYorkIP = "216.160.83.56"
)

// GeoIP writes the test database to a temp dir and opens it; it closes with t.
func GeoIP(t testing.TB) *risk.GeoIP {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		cidr, city, country string
		lat, lon            float64
	}{
		{"81.2.69.0/24", "London", "GB", 51.5, -0.13},
		{"216.160.83.0/24", "New York", "US", 40.7, -74.0},
	} {
		_, network, _ := net.ParseCIDR(n.cidr)
		err := w.Insert(network, mmdbtype.Map{
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.city)}},
			"country":  mmdbtype.Map{"iso_code": mmdbtype.String(n.country)},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(n.lat), "longitude": mmdbtype.Float64(n.lon)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := risk.OpenGeoIP(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}
