package branding

// Defaults are the tenant's brand: what every application that sets no
// field of its own shows, and what pages outside an application's login
// show.
type Defaults struct {
	Name       string // "" keeps the server's name (Gatehouse)
	LogoURL    string
	Primary    string
	Background string
}

// Look is what a hosted page shows: a brand with the defaults filled in.
type Look struct {
	Name       string
	LogoURL    string // an https link, or "" (then Logo may be set)
	LogoOrigin string // the origin the page's CSP must allow images from; "" for none
	Uploaded   bool   // the logo is the application's upload, served by Gatehouse
	Primary    string
	Background string
}

// Resolve fills in a look: the application's brand b (zero when it has
// none), then its registered name appName, then the tenant's defaults d,
// then fallback (the server's own name).
func Resolve(b Brand, appName string, d Defaults, fallback string) Look {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return ""
	}
	l := Look{
		Name:       first(b.Name, appName, d.Name, fallback),
		Primary:    first(b.Primary, d.Primary),
		Background: first(b.Background, d.Background),
	}
	switch {
	case b.LogoType != "":
		l.Uploaded = true
	case b.LogoURL != "":
		l.LogoURL = b.LogoURL
	default:
		l.LogoURL = d.LogoURL
	}
	l.LogoOrigin = LogoOrigin(l.LogoURL)
	return l
}

// Styled reports whether the look changes any colour.
func (l Look) Styled() bool { return l.Primary != "" || l.Background != "" }
