package password

import (
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/unicode/norm"
)

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
	common map[string]struct{} // folded common passwords at least MinLength long
}

// NewPolicy returns the NIST SP 800-63B policy: length bounds, the zxcvbn list of common
// passwords, and context words. Building it takes a few milliseconds; make one and share it.
func NewPolicy() *Policy {
	list := frequency.FrequencyLists["passwords"]
	common := make(map[string]struct{}, len(list)/2)
	for _, pw := range list {
		pw = fold(pw)
		if n := utf8.RuneCountInString(pw); n >= MinLength && n <= MaxLength {
			common[pw] = struct{}{}
		}
	}
	return &Policy{common: common}
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
	if _, ok := p.common[folded]; ok {
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
