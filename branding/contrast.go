package branding

import (
	"fmt"
	"math"
	"strconv"
)

// MinContrast is WCAG 2.x level AA for body text.
const MinContrast = 4.5

// The text colours drawn on a brand's colours: white on the buttons, and on
// the page background the stylesheet's dark text or white, whichever reads
// better.
const (
	ButtonText = "#ffffff"
	DarkText   = "#111827"
	LightText  = "#ffffff"
)

// TextOn is the text colour the hosted pages write on background bg.
func TextOn(bg string) string {
	if Contrast(bg, DarkText) >= Contrast(bg, LightText) {
		return DarkText
	}
	return LightText
}

// Contrast is the WCAG contrast ratio of two #rrggbb colours, from 1 to 21.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG's relative luminance of a #rrggbb colour.
func luminance(c string) float64 {
	r, g, b := channels(c)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func channels(c string) (r, g, b uint8) {
	n, err := strconv.ParseUint(c[1:], 16, 32)
	if len(c) != 7 || c[0] != '#' || err != nil {
		return 0, 0, 0
	}
	return uint8(n >> 16), uint8(n >> 8), uint8(n)
}

// Darken mixes c with black by share (0 to 1): the hover colour of a button.
func Darken(c string, share float64) string {
	r, g, b := channels(c)
	d := func(v uint8) uint8 { return uint8(math.Round(float64(v) * (1 - share))) }
	return fmt.Sprintf("#%02x%02x%02x", d(r), d(g), d(b))
}
