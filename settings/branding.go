package settings

import "github.com/gatehouse-id/gatehouse/branding"

// Branding is the tenant's brand: what applications that set no field of
// their own show on the hosted pages.
func (s Snapshot) Branding() branding.Defaults {
	return branding.Defaults{
		Name:       s.values[KeyBrandName],
		LogoURL:    s.values[KeyBrandLogoURL],
		Primary:    s.values[KeyBrandPrimary],
		Background: s.values[KeyBrandBackground],
	}
}
