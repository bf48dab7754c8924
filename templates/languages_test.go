package templates_test

import (
	"html/template"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/i18n"
)

// Every hosted page, in each of its states, renders in every shipped
// language from that language's own catalogue: no key falls back to
// English (the strict catalogue marks any that would), <html> names the
// language and, for Arabic, the right-to-left direction.
func TestEveryPageSpeaksEveryLanguage(t *testing.T) {
	cat, err := i18n.Load(i18n.Strict())
	if err != nil {
		t.Fatal(err)
	}
	base := func() pageData {
		return pageData{
			Title: "Page", AppName: "Acme", Base: "/", RequestID: "req-1", ReturnTo: "/authorize/resume?tx=1",
			Email: "ada@example.com", MinLength: 8, MaxLength: 128, MemberSince: "March 4, 2026",
			Countries:   []testCountry{{Code: "FR", Name: "France", Dial: "+33", Selected: true}},
			MaskedPhone: "•••• 0123", ResendIn: 7, AttemptsLeft: 2, RememberDays: 30, RecoveryAction: "mfa/challenge",
			RecoveryCodes: []string{"AAAA-1111"}, RecoveryFile: template.URL("data:text/plain,AAAA-1111"),
			User: &testUser{Email: "ada@example.com", Name: "Ada"},
		}
	}
	states := []struct {
		name, page string
		setup      func(*pageData)
	}{
		{"login", "login", nil},
		{"login with passkeys", "login", func(d *pageData) { d.Passkey = &testCeremony{Mode: "discoverable"} }},
		{"signup", "signup", nil},
		{"account", "account", func(d *pageData) {
			d.SendsVerification = true
			d.Languages = []testLanguage{{Tag: "fr", Name: "français", Selected: true}}
		}},
		{"account, verification sent", "account", func(d *pageData) { d.SendsVerification, d.VerificationSent = true, true }},
		{"security", "security", func(d *pageData) {
			d.PhoneAvailable, d.TOTPAvailable, d.HasTOTP, d.PasskeysAvailable, d.RecoveryCodesLeft = true, true, true, true, 3
			d.Sessions = []testDevice{{ID: "1", Device: "Firefox", Current: true}, {ID: "2", Device: "Chrome"}}
			d.Browsers = []testDevice{{ID: "3", Device: "Safari", Until: "4"}}
			d.Passkeys = []testPasskey{{ID: "p", Name: "Laptop", Synced: true, CloneWarning: true}, {ID: "q", Name: "Key", LastUsed: "now"}}
		}},
		{"security without factors", "security", func(d *pageData) { d.MaskedPhone, d.PhoneAvailable = "", true }},
		{"logout", "logout", nil},
		{"error", "error", func(d *pageData) { d.Message = "x" }},
		{"enroll phone", "enroll", func(d *pageData) { d.Step, d.PasskeysAvailable, d.TOTPAvailable = "phone", true, true }},
		{"enroll code", "enroll", func(d *pageData) { d.Step = "code" }},
		{"enroll code, none to type", "enroll", func(d *pageData) { d.Step, d.NoCode = "code", true }},
		{"challenge", "challenge", func(d *pageData) { d.HasTOTP, d.HasPasskey = true, true }},
		{"challenge, resend now", "challenge", func(d *pageData) { d.ResendIn = 0 }},
		{"challenge, long wait", "challenge", func(d *pageData) { d.ResendIn = 120 }},
		{"recovery", "recovery", nil},
		{"totp", "totp", func(d *pageData) { d.HasTOTP, d.HasPhone = true, true }},
		{"totp, recovery only", "totp", nil},
		{"totp setup", "totp-setup", func(d *pageData) { d.TOTPSecret = "ABC" }},
		{"passkey", "passkey", func(d *pageData) {
			d.Passkey, d.HasTOTP, d.HasPhone = &testCeremony{Mode: "assert"}, true, true
		}},
		{"passkey enroll", "passkey-enroll", func(d *pageData) { d.Passkey = &testCeremony{Mode: "register"} }},
		{"passkey enroll from account", "passkey-enroll", func(d *pageData) { d.Passkey, d.ReturnTo = &testCeremony{Mode: "register"}, "" }},
		{"forgot", "forgot", nil},
		{"forgot, sent", "forgot", func(d *pageData) { d.Sent, d.Message = true, "30" }},
		{"reset, passkey", "reset", func(d *pageData) { d.Step, d.Passkey = "passkey", &testCeremony{Mode: "assert"} }},
		{"reset, code", "reset", func(d *pageData) { d.Step = "code" }},
		{"reset, app code", "reset", func(d *pageData) { d.Step, d.MaskedPhone = "code", "" }},
		{"reset, password", "reset", func(d *pageData) { d.Step = "password" }},
		{"verify email", "verify-email", func(d *pageData) { d.Message = "ok" }},
	}
	english := cat.Localizer(i18n.English)
	for _, tag := range cat.Languages() {
		loc := cat.Localizer(tag)
		for _, st := range states {
			t.Run(tag.String()+"/"+st.name, func(t *testing.T) {
				d := base()
				if st.setup != nil {
					st.setup(&d)
				}
				out := renderIn(t, loc, st.page, d)
				if i := strings.Index(out, "[missing:"); i >= 0 {
					t.Fatalf("a key has no %s text: %s", tag, out[i:min(len(out), i+60)])
				}
				wantHTML := `<html lang="` + tag.String() + `">`
				if tag.String() == "ar" {
					wantHTML = `<html lang="ar" dir="rtl">`
				}
				if !strings.Contains(out, wantHTML) {
					t.Fatalf("lacks %s", wantHTML)
				}
				if tag != i18n.English && out == renderIn(t, english, st.page, d) {
					t.Fatal("the page is the same as in English")
				}
			})
		}
	}
}
