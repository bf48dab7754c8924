package branding

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// MaxLogoBytes bounds an uploaded logo. A logo is drawn at most 200 by 64
// CSS pixels; at three device pixels to one that is 600 by 192, well under
// this as a PNG, JPEG or WebP.
const MaxLogoBytes = 100 << 10

// MaxLogoSide bounds an uploaded logo's width and height in pixels.
const MaxLogoSide = 2048

// LogoTypes are the media types an uploaded logo may have.
var LogoTypes = []string{"image/png", "image/jpeg", "image/webp"}

// CheckImage names the type of an uploaded logo from its bytes, refusing
// anything but a well-formed PNG, JPEG or WebP of at most MaxLogoBytes and
// MaxLogoSide. declared, when not empty, is the type the uploader claimed
// (a Content-Type): it must match what the bytes are.
func CheckImage(data []byte, declared string) (Image, error) {
	bad := func(problem string) (Image, error) { return Image{}, &ValidationError{"logo", problem} }
	if len(data) == 0 {
		return bad("is empty: choose an image file")
	}
	if len(data) > MaxLogoBytes {
		return bad(fmt.Sprintf("is %d KiB; an uploaded logo may be at most %d KiB", (len(data)+1023)/1024, MaxLogoBytes>>10))
	}
	typ := sniff(data)
	if typ == "" {
		if looksLikeMarkup(data) {
			return bad("is SVG or HTML, which may carry script and is not accepted; upload PNG, JPEG or WebP, or link an https image instead")
		}
		return bad("is not a PNG, JPEG or WebP image")
	}
	if declared != "" && declared != "application/octet-stream" && declared != typ {
		return bad(fmt.Sprintf("was sent as %s but is %s", declared, typ))
	}
	var cfg image.Config
	var err error
	switch typ {
	case "image/png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case "image/webp":
		err = checkWebP(data)
		cfg = image.Config{Width: 1, Height: 1} // its size is in the chunk; the browser scales it into the box
	}
	if err != nil {
		return bad("is a damaged " + typ + " file")
	}
	if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide || cfg.Width < 1 || cfg.Height < 1 {
		return bad(fmt.Sprintf("is %d×%d pixels; at most %d×%d is accepted", cfg.Width, cfg.Height, MaxLogoSide, MaxLogoSide))
	}
	return Image{Type: typ, Data: data}, nil
}

// sniff names the image type by its signature, as browsers do.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(b) >= 16 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// checkWebP checks the RIFF container: its length must be the file's, and
// its first chunk an image (VP8, VP8L or VP8X).
func checkWebP(b []byte) error {
	if int(binary.LittleEndian.Uint32(b[4:8]))+8 != len(b) {
		return fmt.Errorf("RIFF length does not match")
	}
	switch string(b[12:16]) {
	case "VP8 ", "VP8L", "VP8X":
		return nil
	}
	return fmt.Errorf("no image chunk")
}

// looksLikeMarkup reports whether b starts as an XML, SVG or HTML document
// would, after white space and a byte-order mark.
func looksLikeMarkup(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}
