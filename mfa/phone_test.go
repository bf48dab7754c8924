package mfa_test

import (
	"errors"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/gatehouse-id/gatehouse/mfa"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		name, input, region string
		allowed             []string
		want                mfa.Phone
		reason              string
	}{
		{"UK mobile in national form", "07400 123456", "GB", nil, mfa.Phone{"+447400123456", "GB", 44}, ""},
		{"E.164 ignores the default region", "+44 7400 123456", "US", nil, mfa.Phone{"+447400123456", "GB", 44}, ""},
		{"00 prefix from the default region", "0044 7400 123456", "FR", nil, mfa.Phone{"+447400123456", "GB", 44}, ""},
		{"Guernsey range of +44", "+44 7911 123456", "", nil, mfa.Phone{"+447911123456", "GG", 44}, ""},
		{"US number: FIXED_LINE_OR_MOBILE", "(415) 555-2671", "us", nil, mfa.Phone{"+14155552671", "US", 1}, ""},
		{"US toll free", "+1 800 555 0199", "", nil, mfa.Phone{}, mfa.ReasonTollFree},
		{"UK toll free", "0800 123 4567", "GB", nil, mfa.Phone{}, mfa.ReasonTollFree},
		{"UK premium rate 09", "+44 909 879 0000", "", nil, mfa.Phone{}, mfa.ReasonPremiumRate},
		{"US premium rate 900", "+1 900 555 0199", "", nil, mfa.Phone{}, mfa.ReasonPremiumRate},
		{"UK fixed line", "020 7946 0018", "GB", nil, mfa.Phone{}, mfa.ReasonNotMobile},
		{"UK personal number 070", "+44 70 1234 5678", "", nil, mfa.Phone{}, mfa.ReasonNotMobile},
		{"UK VOIP 056", "+44 56 1234 5678", "", nil, mfa.Phone{}, mfa.ReasonNotMobile},
		{"unassigned UK range", "+44 7700 900123", "", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"too long", "+44 7400 1234567", "", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"unknown calling code", "+999 123", "", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"national form without a region", "07400 123456", "", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"not a number", "call me", "GB", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"empty", "  ", "GB", nil, mfa.Phone{}, mfa.ReasonInvalid},
		{"allowed region", "+33 6 12 34 56 78", "", []string{"FR", "GB"}, mfa.Phone{"+33612345678", "FR", 33}, ""},
		{"region not allowed", "+33 6 12 34 56 78", "", []string{"GB"}, mfa.Phone{}, mfa.ReasonCountryNotAllowed},
		{"GB allows Jersey on +44", "+44 7797 712345", "", []string{"gb"}, mfa.Phone{"+447797712345", "JE", 44}, ""},
		{"GB allows the Isle of Man on +44", "+44 7624 123456", "", []string{"GB"}, mfa.Phone{"+447624123456", "IM", 44}, ""},
		{"US does not allow Jamaica on +1", "+1 876 210 1234", "", []string{"US"}, mfa.Phone{}, mfa.ReasonCountryNotAllowed},
		{"JM allows Jamaica", "+1 876 210 1234", "", []string{"US", "JM"}, mfa.Phone{"+18762101234", "JM", 1}, ""},
		{"RU does not allow Kazakhstan on +7", "+7 771 000 9998", "", []string{"RU"}, mfa.Phone{}, mfa.ReasonCountryNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mfa.ParsePhone(tt.input, tt.region, tt.allowed)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var pe *mfa.PhoneError
			if !errors.As(err, &pe) || pe.Reason != tt.reason || pe.Message == "" {
				t.Fatalf("got %+v, %v; want a PhoneError %q with a message", got, err, tt.reason)
			}
		})
	}
}

// The premium-rate case above stands on libphonenumber's metadata; this pins
// the fact it relies on, so a metadata change shows up here first.
func TestPremiumRateExampleIsPremiumRate(t *testing.T) {
	num, err := phonenumbers.Parse("+44 909 879 0000", "")
	if err != nil || phonenumbers.GetNumberType(num) != phonenumbers.PREMIUM_RATE {
		t.Fatalf("type = %v, %v; want PREMIUM_RATE", phonenumbers.GetNumberType(num), err)
	}
}

func TestPhoneErrorSpeaksToPeople(t *testing.T) {
	_, err := mfa.ParsePhone("020 7946 0018", "GB", nil)
	if want := "This number can't receive text messages. Use a mobile number."; err == nil || err.Error() != want {
		t.Fatalf("message = %v, want %q", err, want)
	}
}

func TestMaskedShowsTheLastFourDigits(t *testing.T) {
	p := mfa.Phone{E164: "+447400120123"}
	if got := p.Masked(); got != "•••• 0123" {
		t.Fatalf("Masked() = %q, want •••• 0123", got)
	}
}
