package mfa

import (
	"strings"
	"testing"
)

// FuzzParsePhone: whatever a person types, parsing never panics, and a number
// it accepts is E.164 that parses back to itself and passes the allow list it
// was checked against.
func FuzzParsePhone(f *testing.F) {
	for _, seed := range []struct{ input, region string }{
		{"07911 123456", "GB"}, {"+44 7911 123456", ""}, {"(415) 555-0100", "US"}, {"+1 900 555 0100", ""},
		{"0800 123 4567", "GB"}, {"+", ""}, {"++44", "GB"}, {"٠٧٩١١١٢٣٤٥٦", "GB"}, {"+44\x007911123456", ""},
		{strings.Repeat("9", 300), "US"}, {"+882 12345678", ""}, {"tel:+447911123456", ""},
	} {
		f.Add(seed.input, seed.region, "GB,US")
	}
	f.Fuzz(func(t *testing.T, input, region, allowList string) {
		allowed := strings.Split(allowList, ",")
		p, err := ParsePhone(input, region, allowed)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.E164, "+") || len(p.E164) > 16 || p.CountryCode <= 0 {
			t.Fatalf("ParsePhone(%q, %q) = %+v", input, region, p)
		}
		again, err := ParsePhone(p.E164, "", allowed)
		if err != nil || again.E164 != p.E164 {
			t.Fatalf("%q parsed to %q, which parses to %q (%v)", input, p.E164, again.E164, err)
		}
	})
}
