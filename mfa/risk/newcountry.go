package risk

import (
	"context"
	"fmt"
)

// NewCountry is Medium when the user has logged in before but never from the
// country of this address. A first login has nothing to compare with.
type NewCountry struct {
	History History
	Locator Locator // nil: unavailable
}

func (NewCountry) Name() string { return "new_country" }

func (s NewCountry) Assess(ctx context.Context, a Attempt) (Finding, error) {
	if s.Locator == nil {
		return unavailable(s.Name(), reasonNoGeoIP), nil
	}
	place, ok := s.Locator.Locate(a.IP)
	if !ok || place.Country == "" {
		return unavailable(s.Name(), fmt.Sprintf("Could not find the country of the address %s.", addr(a.IP.String()))), nil
	}
	_, before, err := s.History.LastLogin(ctx, a.UserID)
	if err != nil {
		return Finding{}, err
	}
	if !before {
		return Finding{Risk: None, Reason: "First login: no earlier countries to compare with."}, nil
	}
	seen, err := s.History.SeenCountry(ctx, a.UserID, place.Country)
	if err != nil {
		return Finding{}, err
	}
	if !seen {
		return Finding{Risk: Medium, Reason: fmt.Sprintf("First login from %s.", place)}, nil
	}
	return Finding{Risk: None, Reason: fmt.Sprintf("The user has logged in from %s before.", place.Country)}, nil
}
