package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

// Purposes of the account mails, and the screens their links open.
const (
	PurposeVerify = "verify" // links to <issuer>email/verify?token=…
	PurposeReset  = "reset"  // links to <issuer>reset?token=…
)

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
	for purpose := range linkPaths {
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
