package server

import (
	"testing"

	"github.com/gatehouse-id/gatehouse/i18n"
)

func TestEveryPageParsesInEveryLanguage(t *testing.T) {
	catalog, p := shippedPageSets(t)
	for _, tag := range catalog.Languages() {
		for _, name := range pageNames {
			if tmpl, err := p.page(tag.String(), name); err != nil || tmpl.Lookup("layout") == nil {
				t.Errorf("page %s in %s: %v, layout %v", name, tag, err, tmpl != nil && tmpl.Lookup("layout") != nil)
			}
		}
	}
}

func TestALanguageIsParsedWhenAPageIsFirstRenderedInIt(t *testing.T) {
	_, p := shippedPageSets(t)
	if len(p.byLang) < 2 {
		t.Fatalf("%d languages shipped; this test needs English and another", len(p.byLang))
	}
	for lang, lp := range p.byLang {
		if parsed := lp.pages != nil; parsed != (lang == i18n.English.String()) {
			t.Errorf("%s parsed at start: %v; only English should be", lang, parsed)
		}
	}
	if _, err := p.page("de", "login"); err != nil {
		t.Fatal(err)
	}
	if p.byLang["de"].pages == nil {
		t.Error("German was not parsed by its first page")
	}
}

func TestAPageOutsideTheShippedLanguagesAndPagesIsAnError(t *testing.T) {
	_, p := shippedPageSets(t)
	if _, err := p.page("xx", "login"); err == nil {
		t.Error("a language that is not shipped has pages")
	}
	if _, err := p.page(i18n.English.String(), "no-such-page"); err == nil {
		t.Error("a page that does not exist was found")
	}
}

func TestEveryAdminPageParses(t *testing.T) {
	catalog, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := adminPages(catalog.Localizer(i18n.English))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin-dashboard", "admin-users", "admin-applications"} {
		if pages[name] == nil {
			t.Errorf("admin page %s missing from %d parsed", name, len(pages))
		}
	}
}

// shippedPageSets are the page sets of the shipped catalogue, as serve
// builds them.
func shippedPageSets(t *testing.T) (*i18n.Catalog, *pageSets) {
	t.Helper()
	catalog, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPageSets(catalog)
	if err != nil {
		t.Fatal(err)
	}
	return catalog, p
}
