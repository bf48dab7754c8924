package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/outbox"
)

// mailConfig is how Gatehouse delivers email (docs/email.md).
type mailConfig struct {
	smtp *mail.SMTPConfig // nil: the console mailer
	from string
}

const (
	defaultMailFrom = "Gatehouse <noreply@localhost>"
	hintSMTPURL     = "set it to smtp://user:pass@host:587 (STARTTLS required), smtp://host:25?starttls=opportunistic|none, or smtps://user:pass@host:465 (implicit TLS)"
	hintMailFrom    = "set it to the sender address, e.g. login@example.com or \"Example Login <login@example.com>\""
	hintMailConsole = hintSMTPURL + "; or set GATEHOUSE_MAIL=console to only write the mails, reset links included, to the log (unsafe in production)"
	hintMail        = "set it to smtp (with GATEHOUSE_SMTP_URL) or console (mails only written to the log, unsafe in production), or leave it unset with GATEHOUSE_SMTP_URL set"
)

// parseMailConfig reads GATEHOUSE_MAIL, GATEHOUSE_SMTP_URL and
// GATEHOUSE_MAIL_FROM. Mails go to the SMTP relay, or to the console mailer
// in dev or when GATEHOUSE_MAIL=console chooses it. Anywhere else a missing
// relay stops the start: the console mailer writes password reset links to
// the log, which must be a choice, not a forgotten variable.
func parseMailConfig(e env, dev bool) (mailConfig, error) {
	var c mailConfig
	mode := strings.TrimSpace(e.getenv("GATEHOUSE_MAIL"))
	if mode != "" && mode != "smtp" && mode != "console" {
		return c, &configError{"GATEHOUSE_MAIL", fmt.Sprintf("%q is not smtp or console", mode), hintMail}
	}
	c.from = strings.TrimSpace(e.getenv("GATEHOUSE_MAIL_FROM"))
	raw := strings.TrimSpace(e.getenv("GATEHOUSE_SMTP_URL"))
	if raw != "" {
		sc, err := mail.ParseSMTPURL(raw)
		if err != nil {
			return c, &configError{"GATEHOUSE_SMTP_URL", err.Error(), hintSMTPURL}
		}
		if c.from == "" {
			return c, &configError{"GATEHOUSE_MAIL_FROM", "is not set but GATEHOUSE_SMTP_URL is", hintMailFrom}
		}
		c.smtp = &sc
	}
	switch {
	case c.smtp != nil && mode == "console":
		return c, &configError{"GATEHOUSE_MAIL", "is console but GATEHOUSE_SMTP_URL is set", "unset one of them: GATEHOUSE_SMTP_URL to send mail, GATEHOUSE_MAIL=console to only log it"}
	case c.smtp == nil && mode == "smtp":
		return c, &configError{"GATEHOUSE_SMTP_URL", "is not set but GATEHOUSE_MAIL is smtp", hintSMTPURL}
	case c.smtp == nil && mode == "" && !dev:
		return c, &configError{"GATEHOUSE_SMTP_URL", "is not set", hintMailConsole}
	}
	if c.from == "" {
		c.from = defaultMailFrom
	}
	if _, err := netmail.ParseAddress(c.from); err != nil {
		return c, &configError{"GATEHOUSE_MAIL_FROM", fmt.Sprintf("%q is not an email address", c.from), hintMailFrom}
	}
	if c.smtp != nil {
		c.smtp.From = c.from
	}
	return c, nil
}

// mailSender builds the configured sender. console is also returned on its
// own when it is the sender, for the dev outbox page.
func mailSender(c mailConfig, log *slog.Logger) (outbox.MailSender, *mail.Console, error) {
	if c.smtp != nil {
		s, err := mail.NewSMTP(*c.smtp)
		return s, nil, err
	}
	console := mail.NewConsole(log, 50)
	return console, console, nil
}

// accountMailer writes the account service's mails and puts them in the mail
// outbox, in the transaction that stores the link's token.
type accountMailer struct {
	box       *outbox.Outbox
	composer  *mail.Composer
	languages userLanguages
}

// userLanguages finds the language a user chose on the account page.
type userLanguages interface {
	UserLanguage(ctx context.Context, userID string) (string, error)
}

// Enqueue writes the mail in the language the user chose, else in the
// language of the request that caused it.
func (a accountMailer) Enqueue(ctx context.Context, m account.Mail) error {
	lang := i18n.FromContext(ctx).String()
	if a.languages != nil && m.UserID != "" {
		chosen, err := a.languages.UserLanguage(ctx, m.UserID)
		if err != nil && !errors.Is(err, account.ErrNotFound) {
			return err
		}
		if chosen != "" {
			lang = chosen
		}
	}
	msg, err := composeAccountMail(a.composer, lang, m)
	if err != nil {
		return err
	}
	_, err = a.box.EnqueueMail(ctx, outbox.MailEnqueued{UserID: m.UserID, Message: msg, ExpiresAt: m.ExpiresAt})
	return err
}

// composeAccountMail writes an account mail: a link's or an announcement's.
func composeAccountMail(c *mail.Composer, lang string, m account.Mail) (mail.Message, error) {
	if m.Purpose == account.MailSecurity {
		return c.ComposeSecurityIn(lang, m.To, string(m.Change), m.At, m.From)
	}
	return c.ComposeIn(lang, m.Purpose, m.To, m.Token, m.ValidFor)
}
