package i18n_test

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/i18n"
)

// BenchmarkChoose is the work every request does to pick its language.
func BenchmarkChoose(b *testing.B) {
	c, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	p := i18n.Preferences{UILocales: "fr-CA en", AcceptLanguage: "de-AT,de;q=0.9,en;q=0.5"}
	t := i18n.Tenant{Default: "es", Enabled: []string{"es", "fr", "de"}}
	for b.Loop() {
		c.Localizer(c.Choose(p, t))
	}
}
