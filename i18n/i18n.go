// Package i18n owns the catalogues of the hosted pages, text messages and
// mails, and chooses the language a person reads.
//
// Each language is one embedded file, locales/<tag>.json, a flat object of
// message keys (e.g. "login.title") to texts; a text that depends on a
// number is an object of CLDR plural forms ("one", "other", and for Arabic
// "zero", "two", "few", "many" too). Texts are go-i18n templates: they
// name their arguments ({{.Count}}, {{.App}}). English is the reference:
// every catalogue has exactly English's keys, and a test enforces it.
//
// The language is chosen, in this order, from the first source that names
// an enabled language: ui_locales on the authorization request, the
// language the user chose on the account page, the browser's
// Accept-Language, and the tenant's default (English when unset).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var locales embed.FS

// English is the reference language and the last fallback.
var English = language.English

// Catalog holds every shipped language's messages.
type Catalog struct {
	bundle *goi18n.Bundle
	tags   []language.Tag      // shipped languages, English first
	keys   map[string][]string // each language's message keys
	strict bool
	// matchers caches a language.Matcher per set of enabled languages; the
	// sets are the few an admin has chosen.
	matchers sync.Map
}

// Option changes how a Catalog behaves.
type Option func(*Catalog)

// Strict makes a message missing from a language render as "[missing:key]"
// instead of falling back to English, so tests can see every gap.
func Strict() Option { return func(c *Catalog) { c.strict = true } }

// Load parses the embedded catalogues.
func Load(opts ...Option) (*Catalog, error) {
	c := &Catalog{bundle: goi18n.NewBundle(English), keys: map[string][]string{}}
	for _, o := range opts {
		o(c)
	}
	c.bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("list catalogues: %w", err)
	}
	for _, f := range files {
		buf, err := locales.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read catalogue %s: %w", f, err)
		}
		mf, err := c.bundle.ParseMessageFileBytes(buf, path.Base(f))
		if err != nil {
			return nil, fmt.Errorf("parse catalogue %s: %w", f, err)
		}
		c.tags = append(c.tags, mf.Tag)
		for _, m := range mf.Messages {
			c.keys[mf.Tag.String()] = append(c.keys[mf.Tag.String()], m.ID)
		}
		slices.Sort(c.keys[mf.Tag.String()])
	}
	slices.SortFunc(c.tags, func(a, b language.Tag) int {
		switch {
		case a == English:
			return -1
		case b == English:
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	if len(c.tags) == 0 || c.tags[0] != English {
		return nil, fmt.Errorf("load catalogues: no English catalogue")
	}
	return c, nil
}

// Languages lists the shipped languages, English first.
func (c *Catalog) Languages() []language.Tag { return slices.Clone(c.tags) }

// Supported returns the shipped language that tag names exactly (by its
// canonical form), or false.
func (c *Catalog) Supported(tag string) (language.Tag, bool) {
	t, err := language.Parse(tag)
	if err != nil {
		return language.Und, false
	}
	for _, s := range c.tags {
		if s == t {
			return s, true
		}
	}
	return language.Und, false
}

// Localizer renders messages in one language.
func (c *Catalog) Localizer(tag language.Tag) *Localizer {
	return &Localizer{tag: tag, c: c, l: goi18n.NewLocalizer(c.bundle, tag.String())}
}

// Localizer renders messages in one language. The zero value is not usable;
// get one from Catalog.Localizer.
type Localizer struct {
	tag language.Tag
	c   *Catalog
	l   *goi18n.Localizer
}

// Tag is the language the localizer speaks.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Lang is the BCP 47 tag for <html lang>.
func (l *Localizer) Lang() string { return l.tag.String() }

// Dir is "rtl" for right-to-left scripts, else "ltr", for <html dir>.
func (l *Localizer) Dir() string {
	if RightToLeft(l.tag) {
		return "rtl"
	}
	return "ltr"
}

// RightToLeft reports whether tag's script is written right to left.
func RightToLeft(tag language.Tag) bool {
	s, _ := tag.Script()
	switch s.String() {
	case "Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg":
		return true
	}
	return false
}

// T renders the message key. args are name/value pairs for the message's
// template ("App", "Acme"); a pair named Count also picks the plural form.
// A key that no catalogue has renders as "[missing:key]".
func (l *Localizer) T(key string, args ...any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: key}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			name := fmt.Sprint(args[i])
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	text, tag, err := l.l.LocalizeWithTag(cfg)
	if err != nil && text == "" {
		return "[missing:" + key + "]"
	}
	if l.c.strict && (err != nil || tag != l.tag) {
		return "[missing:" + key + "]"
	}
	return text
}

// IsKey reports whether s is a message key (English has it), as opposed to
// text already written out.
func (c *Catalog) IsKey(s string) bool {
	if s == "" || strings.ContainsAny(s, " \n") {
		return false
	}
	_, ok := slices.BinarySearch(c.keys[English.String()], s)
	return ok
}

// Keys lists the message keys of tag's catalogue, sorted.
func (c *Catalog) Keys(tag language.Tag) []string { return slices.Clone(c.keys[tag.String()]) }

// Text renders s when it is a message key and returns it unchanged when it
// is text already written out.
func (l *Localizer) Text(s string) string {
	if l.c.IsKey(s) {
		return l.T(s)
	}
	return s
}

// TemplateFuncs are the functions html/template pages use: t (like T, but
// its result is markup: the catalogue's text is trusted and the string
// arguments are escaped, so "Don't" stays as written), lang and dir.
func (l *Localizer) TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) template.HTML {
			escaped := make([]any, len(args))
			for i, a := range args {
				if s, ok := a.(string); ok && i%2 == 1 {
					a = template.HTMLEscapeString(s)
				}
				escaped[i] = a
			}
			return template.HTML(l.T(key, escaped...))
		},
		"lang": l.Lang,
		"dir":  l.Dir,
	}
}

// monthKeys name the months in the catalogues, January first.
var monthKeys = [12]string{"month.01", "month.02", "month.03", "month.04", "month.05", "month.06",
	"month.07", "month.08", "month.09", "month.10", "month.11", "month.12"}

// LongDate writes a day as people of the language do ("March 4, 2026",
// "4 mars 2026").
func (l *Localizer) LongDate(t time.Time) string {
	return l.T("date.long", "Day", t.Day(), "Month", l.T(monthKeys[t.Month()-1]), "Year", t.Year())
}

// TextFuncs are TemplateFuncs for text/template: t writes the text as it is.
func (l *Localizer) TextFuncs() map[string]any {
	return map[string]any{"t": l.T, "lang": l.Lang, "dir": l.Dir}
}
