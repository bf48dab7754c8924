package settings

import "testing"

// FuzzParse: every setting's parser, fed what an admin might type into a
// form or the API, never panics, and what it keeps is canonical: parsing it
// again changes nothing.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "always", "ALWAYS", " true ", "0", "-1", "90", "GB, us,gb", "GB=20,NG=0",
		"+1 (415) 555-0100", "ACME", "https://sms.example.com/send", "10.0.0.0/8, 2001:db8::/32 10.1.2.3", "x=y=z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, spec := range specs {
			c, err := spec.Parse(v)
			if err != nil {
				continue
			}
			again, err := spec.Parse(c)
			if err != nil || again != c {
				t.Fatalf("%s: %q parsed to %q, which parses to %q (%v)", spec.Key, v, c, again, err)
			}
		}
	})
}
