package i18n

import (
	"context"

	"golang.org/x/text/language"
)

type tagKey struct{}

// NewContext returns ctx carrying the language chosen for its request, so
// that a text message or mail the request causes speaks it too.
func NewContext(ctx context.Context, tag language.Tag) context.Context {
	return context.WithValue(ctx, tagKey{}, tag)
}

// FromContext is the language NewContext put in ctx; English when none.
func FromContext(ctx context.Context) language.Tag {
	if t, ok := ctx.Value(tagKey{}).(language.Tag); ok {
		return t
	}
	return English
}

// SMSWording is the first line of a code's text message in the language of
// ctx: "Your <app> verification code is <code>". The caller adds the
// WebOTP line.
func (c *Catalog) SMSWording(ctx context.Context, app, code string) string {
	loc := c.Localizer(FromContext(ctx))
	if app == "" {
		return loc.T("sms.code_no_app", "Code", code)
	}
	return loc.T("sms.code", "App", app, "Code", code)
}
