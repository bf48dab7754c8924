package mfa

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone is a number that can receive the SMS factor's codes.
type Phone struct {
	E164        string // +447400123456
	Region      string // ISO 3166 region of the number's range: "GB", "GG", "US" …
	CountryCode int    // calling code: 44, 1 …
}

// Masked shows the last four digits only: "•••• 3456".
func (p Phone) Masked() string { return "•••• " + p.E164[max(0, len(p.E164)-4):] }

// Reasons a number is refused, stable for the server and for metrics.
const (
	ReasonInvalid           = "invalid"
	ReasonNotMobile         = "not_mobile"
	ReasonPremiumRate       = "premium_rate"
	ReasonTollFree          = "toll_free"
	ReasonCountryNotAllowed = "country_not_allowed"
)

// PhoneError says why ParsePhone refused a number; Message is written for the
// person who typed it.
type PhoneError struct {
	Reason  string
	Message string
}

func (e *PhoneError) Error() string { return e.Message }

var phoneMessages = map[string]string{
	ReasonInvalid:           "This doesn't look like a phone number. Check the number and the country.",
	ReasonNotMobile:         "This number can't receive text messages. Use a mobile number.",
	ReasonPremiumRate:       "Premium-rate and shared-cost numbers can't be used. Use a mobile number.",
	ReasonTollFree:          "Toll-free numbers can't receive text messages. Use a mobile number.",
	ReasonCountryNotAllowed: "Phone numbers from this country can't be used here. Use another mobile number.",
}

func phoneError(reason string) *PhoneError {
	return &PhoneError{Reason: reason, Message: phoneMessages[reason]}
}

// regionOnlyCodes are calling codes shared by independent countries with their
// own carriers and SMS prices (+1: the 25 countries of the North American
// Numbering Plan, Caribbean ranges being a favourite of SMS pumping; +7: Russia
// and Kazakhstan). Allowing one of these regions does not allow the others.
var regionOnlyCodes = map[int]bool{1: true, 7: true}

// ParsePhone reads a number typed in national form for defaultRegion or in
// international form (+…), and accepts it only if it can receive SMS: MOBILE,
// or FIXED_LINE_OR_MOBILE where the numbering plan does not tell them apart
// (all of +1). Fixed lines, VOIP, personal (UK 070), pager, UAN, voicemail and
// unknown ranges are refused as not mobile; VOIP because virtual numbers are
// the cheapest way to farm accounts and many cannot receive SMS.
//
// allowedRegions (empty allows all) is matched on the number's region and on
// its calling code: allowing "GB" allows every +44 mobile, including the
// ranges libphonenumber attributes to Guernsey, Jersey and the Isle of Man,
// which share the UK's numbering plan and whose mobiles people carry as UK
// phones. The calling codes in regionOnlyCodes are matched by region only.
func ParsePhone(input, defaultRegion string, allowedRegions []string) (Phone, error) {
	input = strings.TrimSpace(input)
	if input == "" || len(input) > 64 {
		return Phone{}, phoneError(ReasonInvalid)
	}
	num, err := phonenumbers.Parse(input, strings.ToUpper(defaultRegion))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return Phone{}, phoneError(ReasonInvalid)
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST:
		return Phone{}, phoneError(ReasonPremiumRate)
	case phonenumbers.TOLL_FREE:
		return Phone{}, phoneError(ReasonTollFree)
	case phonenumbers.UNKNOWN:
		return Phone{}, phoneError(ReasonInvalid)
	default:
		return Phone{}, phoneError(ReasonNotMobile)
	}
	p := Phone{
		E164:        phonenumbers.Format(num, phonenumbers.E164),
		Region:      phonenumbers.GetRegionCodeForNumber(num),
		CountryCode: int(num.GetCountryCode()),
	}
	if !regionAllowed(p, allowedRegions) {
		return Phone{}, phoneError(ReasonCountryNotAllowed)
	}
	return p, nil
}

func regionAllowed(p Phone, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, r := range allowed {
		r = strings.ToUpper(strings.TrimSpace(r))
		if r == p.Region {
			return true
		}
		if cc := phonenumbers.GetCountryCodeForRegion(r); cc != 0 && cc == p.CountryCode && !regionOnlyCodes[cc] {
			return true
		}
	}
	return false
}

// phoneFromE164 rebuilds a Phone from a stored number without judging its type
// again: a number verified once keeps working when the metadata changes.
func phoneFromE164(e164 string) (Phone, error) {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return Phone{}, err
	}
	return Phone{
		E164:        phonenumbers.Format(num, phonenumbers.E164),
		Region:      phonenumbers.GetRegionCodeForNumber(num),
		CountryCode: int(num.GetCountryCode()),
	}, nil
}

// CallingCode returns the country calling code of an ISO 3166 region ("GB" →
// 44), or 0 when the phone number metadata knows no such region.
func CallingCode(region string) int {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(strings.TrimSpace(region)))
}
