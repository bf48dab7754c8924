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
// defines "subject" and "text", mail/<purpose>.html defines "html".
type Composer struct {
	issuer  string
	appName string
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
}

// NewComposer parses the mail templates of fsys (templates.FS) for links
// under issuer.
func NewComposer(fsys fs.FS, issuer *url.URL, appName string) (*Composer, error) {
	c := &Composer{issuer: issuer.String(), appName: appName,
		text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, purpose := range append(slices.Collect(maps.Keys(linkPaths)), PurposeSecurity) {
		t, err := texttemplate.ParseFS(fsys, "mail/"+purpose+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s text: %w", purpose, err)
		}
		h, err := htmltemplate.ParseFS(fsys, "mail/"+purpose+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s html: %w", purpose, err)
		}
		c.text[purpose], c.html[purpose] = t, h
	}
	return c, nil
}

// Compose writes the mail that carries token to to; validFor is how long the
// link works, said in the mail.
func (c *Composer) Compose(purpose, to, token string, validFor time.Duration) (Message, error) {
	path, ok := linkPaths[purpose]
	if !ok {
		return Message{}, fmt.Errorf("mail: unknown purpose %q", purpose)
	}
	data := map[string]string{
		"AppName":  c.appName,
		"To":       to,
		"Link":     c.issuer + path + "?token=" + url.QueryEscape(token),
		"ValidFor": humanDuration(validFor),
	}
	return c.execute(purpose, to, data)
}

// ComposeSecurity writes the announcement that change (an
// account.SecurityChange) was made at at from the address from ("" when
// unknown). A change the templates have no words for is an error, not a
// mail that says nothing.
func (c *Composer) ComposeSecurity(to, change string, at time.Time, from string) (Message, error) {
	data := map[string]string{
		"AppName":   c.appName,
		"To":        to,
		"Change":    change,
		"At":        at.UTC().Format("January 2, 2006 at 15:04 UTC"),
		"From":      from,
		"Link":      c.issuer + "account/security",
		"ResetLink": c.issuer + "forgot",
	}
	var headline bytes.Buffer
	if err := c.text[PurposeSecurity].ExecuteTemplate(&headline, "headline", data); err != nil {
		return Message{}, fmt.Errorf("mail: security headline: %w", err)
	}
	if data["Headline"] = strings.TrimSpace(headline.String()); data["Headline"] == "" {
		return Message{}, fmt.Errorf("mail: no words for the security change %q", change)
	}
	return c.execute(PurposeSecurity, to, data)
}

func (c *Composer) execute(purpose, to string, data map[string]string) (Message, error) {
	var subject, text, html bytes.Buffer
	if err := c.text[purpose].ExecuteTemplate(&subject, "subject", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s subject: %w", purpose, err)
	}
	if err := c.text[purpose].ExecuteTemplate(&text, "text", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s text: %w", purpose, err)
	}
	if err := c.html[purpose].ExecuteTemplate(&html, "html", data); err != nil {
		return Message{}, fmt.Errorf("mail: %s html: %w", purpose, err)
	}
	return Message{To: to, Subject: strings.TrimSpace(subject.String()), Text: strings.TrimLeft(text.String(), "\n"),
		HTML: html.String(), Purpose: purpose}, nil
}

// humanDuration says 30 minutes or 24 hours rather than 30m0s.
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
