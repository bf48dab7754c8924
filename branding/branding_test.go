package branding_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/branding"
)

func encodePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFieldRules(t *testing.T) {
	cases := []struct {
		name    string
		parse   func(string) (string, error)
		in      string
		want    string
		problem string // a word the refusal must contain; "" for accepted
	}{
		{"a colour is normalised to #rrggbb", branding.ParseColour, "#1D4ED8", "#1d4ed8", ""},
		{"a short colour is expanded", branding.ParseColour, "#abc", "#aabbcc", ""},
		{"an empty colour follows the default", branding.ParsePrimary, "", "", ""},
		{"a colour name is refused", branding.ParseColour, "red", "", "hex"},
		{"a colour with CSS after it is refused", branding.ParseColour, "#fff;}body{", "", "hex"},
		{"a pale primary fails contrast with white text", branding.ParsePrimary, "#a5b4fc", "", "contrast"},
		{"a dark primary passes", branding.ParsePrimary, "#1d4ed8", "#1d4ed8", ""},
		{"a mid-grey background fails with either text", branding.ParseBackground, "#777777", "", "contrast"},
		{"a dark background takes white text", branding.ParseBackground, "#0f172a", "#0f172a", ""},
		{"a light background takes dark text", branding.ParseBackground, "#f8fafc", "#f8fafc", ""},
		{"an https logo link is kept", branding.ParseLogoURL, "https://cdn.example.com/a.png?v=2", "https://cdn.example.com/a.png?v=2", ""},
		{"a logo over http is refused", branding.ParseLogoURL, "http://cdn.example.com/a.png", "", "https"},
		{"a javascript: logo is refused", branding.ParseLogoURL, "javascript:alert(1)", "", "https"},
		{"a data: logo is refused", branding.ParseLogoURL, "data:image/png;base64,AAAA", "", "https"},
		{"a logo with credentials is refused", branding.ParseLogoURL, "https://u:p@cdn.example.com/a.png", "", "credentials"},
		{"a logo with a quote is refused", branding.ParseLogoURL, "https://cdn.example.com/a'.png", "", "quotes"},
		{"a logo on an IP literal is refused", branding.ParseLogoURL, "https://[::1]/a.png", "", "DNS"},
		{"a name is trimmed", branding.ParseName, "  Acme  ", "Acme", ""},
		{"a long name is refused", branding.ParseName, strings.Repeat("a", 65), "", "64"},
		{"a name on two lines is refused", branding.ParseName, "Acme\nEvil", "", "one line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse(c.in)
			if c.problem == "" {
				if err != nil || got != c.want {
					t.Fatalf("%q: got %q, %v; want %q", c.in, got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Fatalf("%q: got %q, %v; want a refusal mentioning %q", c.in, got, err, c.problem)
			}
		})
	}
}

func TestContrastMatchesWCAG(t *testing.T) {
	if r := branding.Contrast("#000000", "#ffffff"); r < 20.99 || r > 21.01 {
		t.Fatalf("black on white: %.3f, want 21", r)
	}
	// #767676 is the lightest grey that passes AA on white (4.54:1).
	if r := branding.Contrast("#767676", "#ffffff"); r < 4.5 || r > 4.6 {
		t.Fatalf("#767676 on white: %.3f, want 4.54", r)
	}
	if r := branding.Contrast("#777777", "#ffffff"); r >= 4.5 {
		t.Fatalf("#777777 on white: %.3f, want under 4.5", r)
	}
}

func webp(payload []byte) []byte {
	b := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"), payload...)
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

func TestUploadedLogoRules(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	small := encodePNG(t, 16, 16)
	cases := []struct {
		name     string
		data     []byte
		declared string
		wantType string
		problem  string
	}{
		{"a PNG", small, "image/png", "image/png", ""},
		{"a PNG sent without a type", small, "", "image/png", ""},
		{"a JPEG", jpg.Bytes(), "image/jpeg", "image/jpeg", ""},
		{"a WebP", webp(make([]byte, 32)), "image/webp", "image/webp", ""},
		{"nothing", nil, "image/png", "", "empty"},
		{"an oversized file", append(small, make([]byte, branding.MaxLogoBytes)...), "image/png", "", "at most"},
		{"a PNG sent as JPEG", small, "image/jpeg", "", "was sent as"},
		{"an SVG with script", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml", "", "SVG"},
		{"HTML named a PNG", []byte("\n<html><script>alert(1)</script></html>"), "image/png", "", "SVG or HTML"},
		{"a GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "image/gif", "", "not a PNG"},
		{"a PNG signature on junk", []byte("\x89PNG\r\n\x1a\njunk"), "image/png", "", "damaged"},
		{"a WebP whose length lies", append(webp(make([]byte, 32)), 0), "image/webp", "", "damaged"},
		{"a huge canvas", encodePNG(t, branding.MaxLogoSide+1, 1), "image/png", "", "pixels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := branding.CheckImage(c.data, c.declared)
			if c.problem == "" {
				if err != nil || img.Type != c.wantType {
					t.Fatalf("got %q, %v; want %s", img.Type, err, c.wantType)
				}
				return
			}
			var v *branding.ValidationError
			if !errors.As(err, &v) || v.Field != "logo" || !strings.Contains(v.Problem, c.problem) {
				t.Fatalf("got %q, %v; want a logo refusal mentioning %q", img.Type, err, c.problem)
			}
		})
	}
}

func TestResolveFillsTheGapsFromTheTenant(t *testing.T) {
	d := branding.Defaults{Name: "Example Inc", LogoURL: "https://cdn.example.com/t.png", Primary: "#1d4ed8", Background: "#f8fafc"}
	cases := []struct {
		name string
		b    branding.Brand
		app  string
		want branding.Look
	}{
		{"outside any application: the tenant", branding.Brand{}, "", branding.Look{Name: "Example Inc", LogoURL: d.LogoURL,
			LogoOrigin: "https://cdn.example.com", Primary: d.Primary, Background: d.Background}},
		{"an application without a brand: its name", branding.Brand{ClientID: "a"}, "Acme", branding.Look{Name: "Acme", LogoURL: d.LogoURL,
			LogoOrigin: "https://cdn.example.com", Primary: d.Primary, Background: d.Background}},
		{"an application's own fields win", branding.Brand{ClientID: "a", Name: "Acme Login", LogoURL: "https://acme.test:8443/l.png", Primary: "#000000"}, "Acme",
			branding.Look{Name: "Acme Login", LogoURL: "https://acme.test:8443/l.png", LogoOrigin: "https://acme.test:8443", Primary: "#000000", Background: d.Background}},
		{"an uploaded logo needs no other origin", branding.Brand{ClientID: "a", LogoType: "image/png"}, "Acme",
			branding.Look{Name: "Acme", Uploaded: true, Primary: d.Primary, Background: d.Background}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := branding.Resolve(c.b, c.app, d, "Gatehouse"); got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
	if got := branding.Resolve(branding.Brand{}, "", branding.Defaults{}, "Gatehouse"); got != (branding.Look{Name: "Gatehouse"}) {
		t.Fatalf("no brand anywhere: %+v, want the server's name alone", got)
	}
}
