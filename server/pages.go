package server

import (
	"fmt"
	"html/template"
	"sync"

	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/templates"
)

// pageSets holds the hosted pages, one template set per language and page,
// and parses a language's sets when a page is first rendered in it. Each
// language's sets hold about 0.8 MiB of parse trees, and most replicas speak
// few of the shipped languages (a tenant enables some; browsers ask for
// fewer), so parsing all of them up front was a third of a resting replica's
// live heap, doubled by the collector's goal.
//
// English is parsed up front: every language parses the same files with
// functions of the same names, so English parsing proves that every
// language will, and a broken template still stops the server at start.
type pageSets struct {
	byLang map[string]*langPages // every shipped language; never changes after newPageSets
}

type langPages struct {
	loc   *i18n.Localizer
	once  sync.Once
	pages map[string]*template.Template
	err   error
}

func newPageSets(cat *i18n.Catalog) (*pageSets, error) {
	p := &pageSets{byLang: map[string]*langPages{}}
	for _, tag := range cat.Languages() {
		loc := cat.Localizer(tag)
		p.byLang[loc.Lang()] = &langPages{loc: loc}
	}
	if _, err := p.page(i18n.English.String(), pageNames[0]); err != nil {
		return nil, err
	}
	return p, nil
}

// page is the template set of page in lang, parsing lang's sets if this is
// its first page.
func (p *pageSets) page(lang, page string) (*template.Template, error) {
	lp, ok := p.byLang[lang]
	if !ok {
		return nil, fmt.Errorf("no pages in language %q", lang)
	}
	lp.once.Do(func() { lp.pages, lp.err = parseLanguage(lp.loc) })
	if lp.err != nil {
		return nil, lp.err
	}
	t, ok := lp.pages[page]
	if !ok {
		return nil, fmt.Errorf("no page %q", page)
	}
	return t, nil
}

// parseLanguage builds one template set per page: the layout plus the
// page's "content", with the language's t, lang and dir functions.
func parseLanguage(loc *i18n.Localizer) (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("").Funcs(loc.TemplateFuncs()).ParseFS(templates.FS, "layout.html", "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s in %s: %w", name, loc.Lang(), err)
		}
		pages[name] = t
	}
	return pages, nil
}
