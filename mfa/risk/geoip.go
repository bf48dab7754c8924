package risk

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"
)

// GeoIP locates addresses with a MaxMind GeoIP2 or GeoLite2 City database.
type GeoIP struct {
	db *geoip2.Reader
}

// OpenGeoIP opens a City database (.mmdb).
func OpenGeoIP(path string) (*GeoIP, error) {
	db, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database: %w", err)
	}
	if _, err := db.City(netip.IPv4Unspecified()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open GeoIP database %s: not a City database: %w", path, err)
	}
	return &GeoIP{db: db}, nil
}

// Locate places an address from its City record; false when the address is
// not in the database or its record has no coordinates.
func (g *GeoIP) Locate(ip netip.Addr) (Place, bool) {
	if g == nil || !ip.IsValid() {
		return Place{}, false
	}
	rec, err := g.db.City(ip.Unmap())
	if err != nil || !rec.Location.HasCoordinates() {
		return Place{}, false
	}
	return Place{
		City:    rec.City.Names.English,
		Country: rec.Country.ISOCode,
		Lat:     *rec.Location.Latitude,
		Lon:     *rec.Location.Longitude,
	}, true
}

func (g *GeoIP) Close() error { return g.db.Close() }
