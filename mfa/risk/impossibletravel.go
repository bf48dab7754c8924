package risk

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ImpossibleTravel is High when getting from the place of the user's last
// login to this one would have taken more than MaxSpeedKmh. Moves under
// minTravelKm are GeoIP noise and never count.
type ImpossibleTravel struct {
	History     History
	Locator     Locator // nil: unavailable
	MaxSpeedKmh float64 // 0 means 1000, about an airliner's
}

const (
	defaultMaxSpeedKmh = 1000
	minTravelKm        = 100
)

func (ImpossibleTravel) Name() string { return "impossible_travel" }

func (s ImpossibleTravel) Assess(ctx context.Context, a Attempt) (Finding, error) {
	if s.Locator == nil {
		return unavailable(s.Name(), reasonNoGeoIP), nil
	}
	last, ok, err := s.History.LastLogin(ctx, a.UserID)
	if err != nil {
		return Finding{}, err
	}
	if !ok {
		return Finding{Risk: None, Reason: "No earlier login to compare with."}, nil
	}
	from, ok := s.Locator.Locate(last.IP)
	if !ok {
		return unavailable(s.Name(), fmt.Sprintf("Could not locate the address of the last login (%s).", addr(last.IP.String()))), nil
	}
	to, ok := s.Locator.Locate(a.IP)
	if !ok {
		return unavailable(s.Name(), fmt.Sprintf("Could not locate the address %s.", addr(a.IP.String()))), nil
	}
	km := distanceKm(from, to)
	if km < minTravelKm {
		return Finding{Risk: None, Reason: fmt.Sprintf("Within %d km of the last login, from %s.", minTravelKm, from)}, nil
	}
	elapsed := max(a.At.Sub(last.At), time.Minute)
	speed := km / elapsed.Hours()
	reason := fmt.Sprintf("Moved %s km in %s since the last login from %s — %s km/h.", thousands(km), about(elapsed), from, thousands(speed))
	limit := s.MaxSpeedKmh
	if limit <= 0 {
		limit = defaultMaxSpeedKmh
	}
	if speed > limit {
		return Finding{Risk: High, Reason: reason}, nil
	}
	return Finding{Risk: None, Reason: reason}, nil
}

func addr(s string) string {
	if s == "invalid IP" {
		return "unknown"
	}
	return s
}

// distanceKm is the great-circle distance (haversine, mean Earth radius).
func distanceKm(p, q Place) float64 {
	const earthKm = 6371.0
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	dLat, dLon := rad(q.Lat-p.Lat), rad(q.Lon-p.Lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(p.Lat))*math.Cos(rad(q.Lat))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Sqrt(min(h, 1)))
}

// thousands rounds x to tens (GeoIP is no more precise) and groups its
// digits: 5571.3 → "5,570".
func thousands(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x/10)*10), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
