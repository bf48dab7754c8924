package mail_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/templates"
)

func TestEverySecurityChangeHasItsOwnWords(t *testing.T) {
	issuer, _ := url.Parse("https://login.example.com/")
	c, err := mail.NewComposer(templates.FS, issuer, "Acme")
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
