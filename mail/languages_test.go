package mail_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/templates"
)

func TestMailsAreWrittenInTheLanguageAsked(t *testing.T) {
	issuer, err := url.Parse("https://login.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	c, err := mail.NewComposer(templates.FS, loadCatalog(t), issuer, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, subject, htmlTag string
		contains               []string
	}{
		{"fr", "Réinitialisez votre mot de passe Acme", `<html lang="fr">`, []string{"Bonjour,", "expire dans 30 minutes"}},
		{"de", "Setzen Sie Ihr Acme-Passwort zurück", `<html lang="de">`, []string{"Hallo,", "läuft in 30 Minuten ab"}},
		{"ar", "أعد تعيين كلمة مرور Acme", `<html lang="ar" dir="rtl">`, []string{"مرحبًا،", "بعد 30 دقيقة"}},
		{"pt-BR", "Redefina sua senha de Acme", `<html lang="pt-BR">`, []string{"Olá,", "expira em 30 minutos"}},
		{"ja", "Reset your Acme password", `<html lang="en">`, []string{"Hello,", "expires in 30 minutes"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			m, err := c.ComposeIn(tt.lang, mail.PurposeReset, "ann@example.com", "tok", 30*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.HTML, tt.htmlTag) {
				t.Errorf("HTML lacks %s", tt.htmlTag)
			}
			for _, want := range append(tt.contains, "https://login.example.com/reset?token=tok") {
				if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
					t.Errorf("text or HTML lacks %q", want)
				}
			}
		})
	}
	m, err := c.ComposeSecurityIn("fr", "ann@example.com", "phone_added", time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Un téléphone a été ajouté à votre compte", "4 mars 2026 à 09:30 UTC", "192.0.2.1"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("the French security mail lacks %q:\n%s", want, m.Text)
		}
	}
}
