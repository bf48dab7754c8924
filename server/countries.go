package server

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// country is one entry of the enrollment screen's country list.
type country struct {
	Code, Name, Dial string
	Selected         bool
}

// countryList is every region libphonenumber knows, named in English and
// sorted by name, built once.
func countryList() []country {
	names := display.English.Regions()
	var out []country
	for region := range phonenumbers.GetSupportedRegions() {
		r, err := language.ParseRegion(region)
		if err != nil {
			continue
		}
		name := names.Name(r)
		if name == "" {
			name = region
		}
		out = append(out, country{Code: region, Name: name, Dial: "+" + strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))})
	}
	slices.SortFunc(out, func(a, b country) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// countriesFor marks the selected region, chosen by the person, or guessed from
// the browser's language (en-GB → GB), else US.
func countriesFor(all []country, chosen, acceptLanguage string) []country {
	if chosen == "" {
		chosen = regionFromAcceptLanguage(acceptLanguage)
	}
	out := slices.Clone(all)
	for i := range out {
		out[i].Selected = out[i].Code == chosen
	}
	return out
}

func regionFromAcceptLanguage(h string) string {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err == nil {
		for _, t := range tags {
			if r, conf := t.Region(); conf == language.Exact {
				return strings.ToUpper(r.String())
			}
		}
	}
	return "US"
}
