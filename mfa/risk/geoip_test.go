package risk_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/mfa/risk/risktest"
)

func testGeoIP(t *testing.T) *risk.GeoIP { return risktest.GeoIP(t) }

func TestGeoIPLocates(t *testing.T) {
	g := testGeoIP(t)
	for _, tc := range []struct {
		ip   netip.Addr
		want risk.Place
		ok   bool
	}{
		{london, risk.Place{City: "London", Country: "GB", Lat: 51.5, Lon: -0.13}, true},
		{netip.MustParseAddr("::ffff:216.160.83.1"), risk.Place{City: "New York", Country: "US", Lat: 40.7, Lon: -74.0}, true},
		{netip.MustParseAddr("192.0.2.1"), risk.Place{}, false},
		{netip.MustParseAddr("2001:db8::1"), risk.Place{}, false},
		{netip.Addr{}, risk.Place{}, false},
	} {
		got, ok := g.Locate(tc.ip)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Locate(%v) = %+v, %v; want %+v, %v", tc.ip, got, ok, tc.want, tc.ok)
		}
	}
}

func TestOpenGeoIPRefusesWhatIsNotACityDatabase(t *testing.T) {
	if _, err := risk.OpenGeoIP(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("opened a missing file")
	}
	junk := filepath.Join(t.TempDir(), "junk.mmdb")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := risk.OpenGeoIP(junk); err == nil {
		t.Error("opened a file that is not a database")
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(t.TempDir(), "asn.mmdb")
	f, err := os.Create(asn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := risk.OpenGeoIP(asn); err == nil {
		t.Error("opened an ASN database as a City database")
	}
}
