package sms

import "unicode/utf16"

// Encoding is how a text message's characters travel: GSM-7 (the GSM 03.38
// default alphabet, 7 bits a character) when every character is in it,
// else UCS-2 (16 bits a character, i.e. UTF-16 code units).
type Encoding string

const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// gsmBasic is the GSM 03.38 basic character set; each counts one septet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension are the characters reached through the escape code; each
// counts two septets.
const gsmExtension = "\f^{}\\[~]|€"

var gsmWidth = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments says how many SMS parts text is billed as, and in which
// encoding. A single GSM-7 message holds 160 septets, each part of a longer
// one 153 (the rest carries the concatenation header); in UCS-2 the figures
// are 70 and 67 code units.
func Segments(text string) (int, Encoding) {
	septets := 0
	for _, r := range text {
		w, ok := gsmWidth[r]
		if !ok {
			units := len(utf16.Encode([]rune(text)))
			return parts(units, 70, 67), UCS2
		}
		septets += w
	}
	return parts(septets, 160, 153), GSM7
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
