package password

import (
	_ "embed"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// commonList is zxcvbn's list of common passwords (github.com/trustelem/zxcvbn,
// frequency.FrequencyLists["passwords"], MIT licence in common.LICENSE),
// folded, those of MinLength to MaxLength code points only, sorted, one a
// line; a test checks it against that list. It is embedded rather than read
// from that package because the package's init builds all six of its lists on
// the heap, 1.5 MiB that every process held for the one list it needs.
//
//go:embed common.txt
var commonList string

// Length bounds in Unicode code points, counted after NFKC normalization.
const (
	MinLength = 8
	MaxLength = 256
)

// Reasons a password is refused; the Reason of a Weakness is one of these.
const (
	ReasonTooShort   = "too_short"
	ReasonTooLong    = "too_long"
	ReasonCommon     = "common"
	ReasonContextual = "contextual"
)

// Weakness is the error Check returns for a password it refuses. Find it with
//
//	var w password.Weakness
//	if errors.As(err, &w) { ... w.Reason ... }
type Weakness struct {
	Reason  string // stable code for programs: one of the Reason constants
	Key     string // stable identifier of Message, for pages that show it translated
	Message string // a sentence in English to show the person choosing the password
}

func (w Weakness) Error() string { return w.Message }

var (
	weakTooShort = Weakness{ReasonTooShort, "password.weak.too_short", "Use at least 8 characters."}
	weakTooLong  = Weakness{ReasonTooLong, "password.weak.too_long", "Use at most 256 characters."}
	weakCommon   = Weakness{ReasonCommon, "password.weak.common", "This password is too common; choose another."}
	weakEmail    = Weakness{ReasonContextual, "password.weak.email", "Your password must not be your email address."}
	weakLocal    = Weakness{ReasonContextual, "password.weak.email_local", "Your password must not be the part of your email address before the @."}
	weakContext  = Weakness{ReasonContextual, "password.weak.context", "Your password must not be your name, username or the name of this site."}
)

// Policy holds the rules for choosing a password. It is safe for concurrent use.
type Policy struct {
	// common is the folded common passwords, sorted: slices of the embedded
	// list, so that only their headers (180 KiB) are on the heap where a
	// map of them held 0.85 MiB.
	common []string
}

// NewPolicy returns the NIST SP 800-63B policy: length bounds, the zxcvbn list of common
// passwords, and context words. Make one and share it.
func NewPolicy() *Policy {
	return &Policy{common: strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")}
}

// Check returns a Weakness if plain may not be chosen as a password, or nil. Length is counted in
// code points after NFKC normalization; the other rules ignore case. context holds words plain
// must not equal: the email address (its part before the @ is refused too), the username, the
// name of the site. Empty words are ignored.
func (p *Policy) Check(plain string, context ...string) error {
	normalized := norm.NFKC.String(plain)
	switch n := utf8.RuneCountInString(normalized); {
	case n < MinLength:
		return weakTooShort
	case n > MaxLength:
		return weakTooLong
	}
	folded := strings.ToLower(normalized)
	for _, word := range context {
		if w, refused := contextual(folded, fold(word)); refused {
			return w
		}
	}
	if _, ok := slices.BinarySearch(p.common, folded); ok {
		return weakCommon
	}
	return nil
}

// contextual reports whether folded equals word, or the part before the @ of word if word is an
// email address, and the Weakness to report if so.
func contextual(folded, word string) (Weakness, bool) {
	if word == "" {
		return Weakness{}, false
	}
	at := strings.LastIndexByte(word, '@')
	switch {
	case at < 0:
		return weakContext, folded == word
	case folded == word:
		return weakEmail, true
	}
	return weakLocal, at > 0 && folded == word[:at]
}

func fold(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}
