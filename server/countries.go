package server

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// country is one entry of the enrollment screen's country list.
type country struct {
	Code, Name, Dial string
	Selected         bool
}

// countryLists are countryList in each language the catalogues ship, by tag.
func countryLists(tags []language.Tag) map[string][]country {
	out := make(map[string][]country, len(tags))
	for _, tag := range tags {
		out[tag.String()] = countryList(tag)
	}
	return out
}

// countryList is every region libphonenumber knows, named in the language of
// tag and sorted as that language sorts, built once.
func countryList(tag language.Tag) []country {
	names := display.Regions(tag)
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
	order := collate.New(tag)
	slices.SortFunc(out, func(a, b country) int {
		return cmp.Or(order.CompareString(a.Name, b.Name), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// countriesFor marks the selected region: chosen by the person, else the
// country the request comes from as far as GeoIP knows (located), else
// guessed from the browser's language (en-GB → GB), else US.
func countriesFor(all []country, chosen, located, acceptLanguage string) []country {
	if chosen == "" && located != "" && phonenumbers.GetCountryCodeForRegion(located) != 0 {
		chosen = located
	}
	if chosen == "" {
		chosen = regionFromAcceptLanguage(acceptLanguage)
	}
	out := slices.Clone(all)
	for i := range out {
		out[i].Selected = out[i].Code == chosen
	}
	return out
}

// phoneExample is a mobile number of region as people there would write it
// with its country code, for the enrollment's hint; "" when libphonenumber
// has none.
func phoneExample(countries []country) string {
	for _, c := range countries {
		if !c.Selected {
			continue
		}
		if n := phonenumbers.GetExampleNumberForType(c.Code, phonenumbers.MOBILE); n != nil {
			return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
		}
	}
	return ""
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
