package i18n

import (
	"strings"

	"golang.org/x/text/language"
)

// Preferences are the sources a language is chosen from, most binding
// first. Any may be empty.
type Preferences struct {
	UILocales      string // OIDC ui_locales: space-separated BCP 47 tags, best first
	UserChoice     string // the tag the user chose on the account page
	AcceptLanguage string // the browser's Accept-Language header
}

// Tenant is what an admin decided: the default language and the enabled
// ones (empty: every shipped language).
type Tenant struct {
	Default string
	Enabled []string
}

// Choose picks the language to speak: the first source in Preferences that
// names an enabled language (a regional variant matches its language, so
// fr-CA picks French and pt picks Portuguese (Brazil)), else the tenant's
// default, else English.
func (c *Catalog) Choose(p Preferences, t Tenant) language.Tag {
	enabled := c.enabled(t)
	m := c.matcher(enabled)
	if tag, ok := match(m, enabled, strings.Fields(p.UILocales)...); ok {
		return tag
	}
	if tag, ok := match(m, enabled, p.UserChoice); ok {
		return tag
	}
	if tags, _, err := language.ParseAcceptLanguage(p.AcceptLanguage); err == nil && len(tags) > 0 {
		names := make([]string, len(tags))
		for i, tg := range tags {
			names[i] = tg.String()
		}
		if tag, ok := match(m, enabled, names...); ok {
			return tag
		}
	}
	if tag, ok := c.Supported(t.Default); ok && contains(enabled, tag) {
		return tag
	}
	return enabled[0]
}

// matcher is a language.Matcher over enabled, built once per set of enabled
// languages: building one costs more than choosing with it.
func (c *Catalog) matcher(enabled []language.Tag) language.Matcher {
	var key strings.Builder
	for _, t := range enabled {
		key.WriteString(t.String())
		key.WriteByte(' ')
	}
	if m, ok := c.matchers.Load(key.String()); ok {
		return m.(language.Matcher)
	}
	m := language.NewMatcher(enabled)
	c.matchers.Store(key.String(), m)
	return m
}

// Enabled are the tenant's enabled languages that ship, the default first.
func (c *Catalog) Enabled(t Tenant) []language.Tag { return c.enabled(t) }

// enabled is the tenant's enabled languages that ship, in shipped order;
// all of them when the tenant names none that ship.
func (c *Catalog) enabled(t Tenant) []language.Tag {
	var out []language.Tag
	for _, tag := range c.tags {
		for _, e := range t.Enabled {
			if s, ok := c.Supported(e); ok && s == tag {
				out = append(out, tag)
			}
		}
	}
	if len(out) == 0 {
		out = c.Languages()
	}
	// The default leads: it is what a weak match falls back to.
	if d, ok := c.Supported(t.Default); ok && contains(out, d) {
		for i, tag := range out {
			if tag == d {
				out[0], out[i] = out[i], out[0]
			}
		}
	}
	return out
}

// match returns the enabled language the tags name, requiring at least a
// high-confidence match so that an unknown language is skipped rather than
// answered with the first enabled one.
func match(m language.Matcher, enabled []language.Tag, names ...string) (language.Tag, bool) {
	var tags []language.Tag
	for _, n := range names {
		if n == "" || n == "*" {
			continue
		}
		if t, err := language.Parse(n); err == nil {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		return language.Und, false
	}
	_, i, conf := m.Match(tags...)
	if conf < language.High {
		return language.Und, false
	}
	return enabled[i], true
}

func contains(tags []language.Tag, t language.Tag) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}
