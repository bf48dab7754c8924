package sms

import (
	"strings"
	"testing"
)

func TestSegmentsCountAsCarriersBill(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		segments int
		encoding Encoding
	}{
		{"plain ASCII fits one GSM-7 part", "Your code is 123456", 1, GSM7},
		{"160 septets are still one part", strings.Repeat("a", 160), 1, GSM7},
		{"161 septets take two parts of 153", strings.Repeat("a", 161), 2, GSM7},
		{"307 septets take three parts", strings.Repeat("a", 307), 3, GSM7},
		{"extension characters count twice", strings.Repeat("€", 80), 1, GSM7},
		{"81 euro signs overflow one part", strings.Repeat("€", 81), 2, GSM7},
		{"accents of the basic set stay GSM-7", "Ihr Bestätigungscode lautet 123456, vérification", 1, GSM7},
		{"one character outside the set switches to UCS-2", "Tu código es 123456", 1, UCS2},
		{"70 UCS-2 units are one part", strings.Repeat("न", 70), 1, UCS2},
		{"71 UCS-2 units take two parts of 67", strings.Repeat("न", 71), 2, UCS2},
		{"Arabic is UCS-2", "رمز التحقق هو 123456", 1, UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, enc := Segments(tt.text)
			if n != tt.segments || enc != tt.encoding {
				t.Fatalf("Segments(%q) = %d, %s; want %d, %s", tt.text, n, enc, tt.segments, tt.encoding)
			}
		})
	}
}
