package mail_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/templates"
)

func loadCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestComposerNeedsACatalogue(t *testing.T) {
	issuer, err := url.Parse("https://login.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mail.NewComposer(templates.FS, nil, issuer, "Acme"); err == nil {
		t.Error("a composer without a catalogue was made")
	}
}

func TestEverySecurityChangeHasItsOwnWords(t *testing.T) {
	issuer, err := url.Parse("https://login.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.NewComposer(templates.FS, loadCatalog(t), issuer, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)
	for change, headline := range map[string]string{
		"phone_added":                "A phone was added to your account",
		"phone_changed":              "Your phone number was changed",
		"phone_removed":              "Your phone was removed",
		"app_added":                  "A new authenticator app was added",
		"app_removed":                "Your authenticator app was removed",
		"recovery_codes_regenerated": "Your recovery codes were regenerated",
		"passkey_added":              "A new passkey was added to your account",
		"passkey_removed":            "A passkey was removed from your account",
		"password_changed":           "Your password was changed",
	} {
		t.Run(change, func(t *testing.T) {
			m, err := c.ComposeSecurity("ann@example.com", change, at, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != headline+" · Acme" || m.Purpose != mail.PurposeSecurity || m.To != "ann@example.com" {
				t.Fatalf("subject %q, purpose %q, to %q", m.Subject, m.Purpose, m.To)
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, want := range []string{headline, "March 4, 2026 at 09:30 UTC", "192.0.2.1",
					"https://login.example.com/account/security", "https://login.example.com/forgot"} {
					if !strings.Contains(part, want) {
						t.Errorf("mail lacks %q:\n%s", want, part)
					}
				}
			}
		})
	}
	if _, err := c.ComposeSecurity("ann@example.com", "something_else", at, ""); err == nil {
		t.Fatal("a change without words was composed")
	}
}

// A changed password is not a sign that someone knows the password, it is
// the sign that someone got in: the mail says so instead.
func TestAPasswordChangeMailSaysSomeoneGotIn(t *testing.T) {
	issuer, err := url.Parse("https://login.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.NewComposer(templates.FS, loadCatalog(t), issuer, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.ComposeSecurity("ann@example.com", "password_changed", time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{m.Text, m.HTML} {
		if !strings.Contains(part, "someone has got into your account") || strings.Contains(part, "may know your password") {
			t.Errorf("mail:\n%s", part)
		}
	}
}
