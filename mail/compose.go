package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse-id/gatehouse/i18n"
)

// Purposes of the account mails, and the screens their links open.
const (
	PurposeVerify = "verify" // links to <issuer>email/verify?token=…
	PurposeReset  = "reset"  // links to <issuer>reset?token=…
)

// PurposeSecurity announces a change to how an account signs in; its link
// opens the account's security page.
const PurposeSecurity = "security"

var linkPaths = map[string]string{PurposeVerify: "email/verify", PurposeReset: "reset"}

// Composer writes the account mails from templates: mail/<purpose>.txt
// defines "subject" and "text", mail/<purpose>.html defines "html". Their
// words come from the catalogues (package i18n), one template set per
// language.
type Composer struct {
	issuer  string
	appName string
	catalog *i18n.Catalog
	sets    map[string]templateSet // by language tag
}

type templateSet struct {
	loc  *i18n.Localizer
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// NewComposer parses the mail templates of fsys (templates.FS) for links
// under issuer, in every language of cat. cat is the process's one
// catalogue, shared with the pages and the text messages: each load holds
// every language's parsed messages.
func NewComposer(fsys fs.FS, cat *i18n.Catalog, issuer *url.URL, appName string) (*Composer, error) {
	if cat == nil {
		return nil, fmt.Errorf("mail: no catalogue")
	}
	c := &Composer{issuer: issuer.String(), appName: appName, catalog: cat, sets: map[string]templateSet{}}
	for _, tag := range cat.Languages() {
		loc := cat.Localizer(tag)
		set := templateSet{loc: loc, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
		for _, purpose := range append(slices.Collect(maps.Keys(linkPaths)), PurposeSecurity) {
			t, err := texttemplate.New("").Funcs(loc.TextFuncs()).ParseFS(fsys, "mail/"+purpose+".txt")
			if err != nil {
				return nil, fmt.Errorf("mail: parse %s text: %w", purpose, err)
			}
			h, err := htmltemplate.New("").Funcs(loc.TemplateFuncs()).ParseFS(fsys, "mail/"+purpose+".html")
			if err != nil {
				return nil, fmt.Errorf("mail: parse %s html: %w", purpose, err)
			}
			set.text[purpose], set.html[purpose] = t, h
		}
		c.sets[loc.Lang()] = set
	}
	return c, nil
}

// set is the templates of the language tag names, English when none ships.
func (c *Composer) set(tag string) templateSet {
	if t, ok := c.catalog.Supported(tag); ok {
		return c.sets[t.String()]
	}
	return c.sets[i18n.English.String()]
}

// Compose writes the mail that carries token to to, in English; validFor is
// how long the link works, said in the mail.
func (c *Composer) Compose(purpose, to, token string, validFor time.Duration) (Message, error) {
	return c.ComposeIn("en", purpose, to, token, validFor)
}

// ComposeIn is Compose in the language lang names (a BCP 47 tag).
func (c *Composer) ComposeIn(lang, purpose, to, token string, validFor time.Duration) (Message, error) {
	path, ok := linkPaths[purpose]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown purpose %q", purpose)
	}
	set := c.set(lang)
	data := map[string]string{
		"AppName":  c.appName,
		"To":       to,
		"Link":     c.issuer + path + "?token=" + url.QueryEscape(token),
		"ValidFor": humanDuration(set.loc, validFor),
	}
	return c.execute(set, purpose, to, data)
}

// ComposeSecurity writes the announcement that change (an
// account.SecurityChange) was made at at from the address from ("" when
// unknown). A change the templates have no words for is an error, not a
// mail that says nothing.
func (c *Composer) ComposeSecurity(to, change string, at time.Time, from string) (Message, error) {
	return c.ComposeSecurityIn("en", to, change, at, from)
}

// ComposeSecurityIn is ComposeSecurity in the language lang names.
func (c *Composer) ComposeSecurityIn(lang, to, change string, at time.Time, from string) (Message, error) {
	set := c.set(lang)
	at = at.UTC()
	data := map[string]string{
		"AppName":   c.appName,
		"To":        to,
		"Change":    change,
		"At":        set.loc.T("mail.at", "Date", set.loc.LongDate(at), "Time", at.Format("15:04")),
		"From":      from,
		"Link":      c.issuer + "account/security",
		"ResetLink": c.issuer + "forgot",
	}
	var headline bytes.Buffer
	if err := set.text[PurposeSecurity].ExecuteTemplate(&headline, "headline", data); err != nil {
		return Message{}, fmt.Errorf("mail: security headline: %w", err)
	}
	if data["Headline"] = strings.TrimSpace(headline.String()); data["Headline"] == "" {
		return Message{}, fmt.Errorf("mail: no words for the security change %q", change)
	}
	return c.execute(set, PurposeSecurity, to, data)
}

func (c *Composer) execute(set templateSet, purpose, to string, data map[string]string) (Message, error) {
	var subject, text, html bytes.Buffer
	if err := set.text[purpose].ExecuteTemplate(&subject, "subject", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s subject: %w", purpose, err)
	}
	if err := set.text[purpose].ExecuteTemplate(&text, "text", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s text: %w", purpose, err)
	}
	if err := set.html[purpose].ExecuteTemplate(&html, "html", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s html: %w", purpose, err)
	}
	return Message{To: to, Subject: strings.TrimSpace(subject.String()), Text: strings.TrimLeft(text.String(), "\n"),
		HTML: html.String(), Purpose: purpose}, nil
}

// humanDuration says 30 minutes or 24 hours rather than 30m0s.
func humanDuration(loc *i18n.Localizer, d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return loc.T("mail.duration.hours", "Count", int(d/time.Hour))
	case d >= time.Minute:
		return loc.T("mail.duration.minutes", "Count", int(d/time.Minute))
	}
	return d.String()
}
