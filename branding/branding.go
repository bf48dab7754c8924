// Package branding is each application's look on the hosted pages: the name
// a person reads ("Log in to continue to Acme"), a logo (a link to an https
// image, or a small image uploaded into Postgres) and two colours, with the
// tenant's defaults for whatever an application leaves unset. It holds the
// rules a brand must follow before it is stored — colours readable against
// the text drawn on them (WCAG AA, 4.5:1), logo links that are https, images
// that are PNG, JPEG or WebP and small — and knows nothing of HTTP or SQL.
//
// SVG is refused as an upload: an SVG file is a document that may carry
// script, and a logo served from the issuer's own origin would run it with
// the login pages' cookies if someone opened its address directly. A logo
// URL on another host may be an SVG: an <img> never runs an image's script.
package branding

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNotFound is what a Store answers for an application without a brand
// or without an uploaded logo.
var ErrNotFound = errors.New("not found")

// Brand is what an administrator set for one application. Empty fields
// follow the tenant's defaults.
type Brand struct {
	ClientID   string
	Name       string // display name on the hosted pages; "" uses the application's name
	LogoURL    string // an https image; "" when none, or when a logo was uploaded
	Primary    string // "#rrggbb": buttons and links, under white text
	Background string // "#rrggbb": the page behind the card
	// LogoType is the media type of the uploaded logo ("" when none) and
	// LogoSum the start of its SHA-256 in hex, which versions its address so
	// that browsers may keep it for a year.
	LogoType  string
	LogoSum   string
	UpdatedAt time.Time
}

// Image is an uploaded logo.
type Image struct {
	Type string // image/png, image/jpeg or image/webp
	Data []byte
}

// MaxNameRunes bounds a display name: it must fit the card's header.
const MaxNameRunes = 64

// MaxURLBytes bounds a logo link.
const MaxURLBytes = 2048

// ValidationError names the field a change was refused for and says why in
// words an admin understands.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }

var hexColour = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// hostName is what a logo's host may be: a DNS name. It is written into the
// Content-Security-Policy as it stands, so nothing else may pass.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// ParseName trims a display name and refuses one too long for the card or
// holding control characters.
func ParseName(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxNameRunes {
		return "", fmt.Errorf("must be at most %d characters", MaxNameRunes)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", errors.New("must be one line of text")
	}
	return v, nil
}

// ParseLogoURL accepts an https URL without credentials or fragment whose
// host is a DNS name, and answers it as it will be linked.
func ParseLogoURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	const want = "must be an https address of an image, such as https://cdn.example.com/logo.png"
	if len(v) > MaxURLBytes {
		return "", fmt.Errorf("must be at most %d characters", MaxURLBytes)
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "", errors.New(want)
	}
	if u.User != nil || u.Fragment != "" || strings.ContainsAny(v, " \t\r\n\\'\"") {
		return "", errors.New(want + ", without credentials, quotes or #fragment")
	}
	if !hostName.MatchString(u.Hostname()) {
		return "", errors.New(want + ", on a host with a DNS name")
	}
	return u.String(), nil
}

// LogoOrigin is the scheme, host and port of a logo link: what the hosted
// pages' Content-Security-Policy lets images load from besides the issuer.
func LogoOrigin(logoURL string) string {
	u, err := url.Parse(logoURL)
	if err != nil || u.Scheme != "https" || !hostName.MatchString(u.Hostname()) {
		return ""
	}
	return "https://" + u.Host
}

// ParseColour accepts #rgb or #rrggbb and answers #rrggbb in lower case.
func ParseColour(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if !hexColour.MatchString(v) {
		return "", errors.New("must be a colour in hex, such as #1d4ed8")
	}
	v = strings.ToLower(v)
	if len(v) == 4 {
		v = "#" + strings.Repeat(v[1:2], 2) + strings.Repeat(v[2:3], 2) + strings.Repeat(v[3:4], 2)
	}
	return v, nil
}

// ParsePrimary is ParseColour for the primary colour, which must be
// readable under the white text of the buttons and as link text on the
// white card (the same contrast).
func ParsePrimary(v string) (string, error) {
	c, err := ParseColour(v)
	if err != nil || c == "" {
		return c, err
	}
	if r := Contrast(c, ButtonText); r < MinContrast {
		return "", fmt.Errorf("has contrast %.2f:1 with the white text of the buttons; it needs at least %.1f:1 (WCAG AA): choose a darker colour", r, MinContrast)
	}
	return c, nil
}

// ParseBackground is ParseColour for the page's background, which must be
// readable under the text written on it (dark or white, whichever reads
// better; see TextOn).
func ParseBackground(v string) (string, error) {
	c, err := ParseColour(v)
	if err != nil || c == "" {
		return c, err
	}
	if r := Contrast(c, TextOn(c)); r < MinContrast {
		return "", fmt.Errorf("has contrast %.2f:1 with the text on it; it needs at least %.1f:1 (WCAG AA): choose a lighter or a darker colour", r, MinContrast)
	}
	return c, nil
}

// Change is what an administrator asks to set. Nil fields stay as they
// are; an empty string returns a field to the tenant's default.
type Change struct {
	Name, LogoURL, Primary, Background *string
}

// apply checks ch and lays it over b, naming what changed.
func (ch Change) apply(b *Brand) ([]string, error) {
	var changed []string
	fields := []struct {
		name  string
		dst   *string
		v     *string
		parse func(string) (string, error)
	}{
		{"name", &b.Name, ch.Name, ParseName},
		{"logo_url", &b.LogoURL, ch.LogoURL, ParseLogoURL},
		{"primary_color", &b.Primary, ch.Primary, ParsePrimary},
		{"background_color", &b.Background, ch.Background, ParseBackground},
	}
	for _, f := range fields {
		if f.v == nil {
			continue
		}
		v, err := f.parse(*f.v)
		if err != nil {
			return nil, &ValidationError{f.name, err.Error()}
		}
		if v != *f.dst {
			*f.dst = v
			changed = append(changed, f.name)
		}
	}
	return changed, nil
}
