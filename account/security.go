package account

import (
	"context"
	"fmt"
	"time"
)

// SecurityChange names a change to how an account signs in, which its owner
// is told about by mail: if it was not them, the mail is how they learn it.
// A new factor kind adds its changes here and their words to
// templates/mail/security.txt and .html.
type SecurityChange string

const (
	ChangePhoneAdded         SecurityChange = "phone_added"
	ChangePhoneChanged       SecurityChange = "phone_changed"
	ChangePhoneRemoved       SecurityChange = "phone_removed"
	ChangeAppAdded           SecurityChange = "app_added"
	ChangeAppRemoved         SecurityChange = "app_removed"
	ChangeRecoveryRegenerate SecurityChange = "recovery_codes_regenerated"
	ChangePasskeyAdded       SecurityChange = "passkey_added"
	ChangePasskeyRemoved     SecurityChange = "passkey_removed"
	ChangePasswordChanged    SecurityChange = "password_changed"
)

const (
	// MailSecurity is the purpose of a security change announcement.
	MailSecurity = "security"
	// EventSecurityMailQueued is an announcement put in the outbox;
	// details.change names the change.
	EventSecurityMailQueued = "email.security_notice_queued"
	// announceFor is how long an announcement is worth sending: after a
	// day of outage the user has likely seen the change on their own page.
	announceFor = 24 * time.Hour
)

// AnnounceSecurityChange mails the user that change happened, from m's
// address, within the mail limits (*MailLimitError). An address that is not
// verified gets nothing: it may not be the user's.
func (s *Service) AnnounceSecurityChange(ctx context.Context, user User, change SecurityChange, m Meta) error {
	if s.email == nil || s.mailer == nil || !user.EmailVerified {
		return nil
	}
	now := s.now()
	var from string
	if m.IP.IsValid() {
		from = m.IP.String()
	}
	err := s.email.InTx(ctx, func(ctx context.Context) error {
		if err := s.takeMailSends(ctx, user.Email, m, now); err != nil {
			return err
		}
		return s.mailer.Enqueue(ctx, Mail{Purpose: MailSecurity, UserID: user.ID, To: user.Email,
			Change: change, At: now, From: from, ExpiresAt: now.Add(announceFor)})
	})
	if err != nil {
		return s.mailRefused(ctx, fmt.Errorf("announce %s: %w", change, err), user.Email, m)
	}
	s.record(ctx, Event{Type: EventSecurityMailQueued, UserID: user.ID, Subject: user.Email,
		Details: map[string]any{"change": string(change)}}, m)
	return nil
}

// EndOtherSessions logs the user out of every session but current, the
// browser that asks, and counts them; it is audited once.
func (s *Service) EndOtherSessions(ctx context.Context, current Session, m Meta) (int64, error) {
	n, err := s.sessions.DeleteUserSessions(ctx, current.UserID, current.idHash)
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	s.record(ctx, Event{Type: EventLogout, UserID: current.UserID,
		Details: map[string]any{"by": "user", "remote": true, "others": n}}, m)
	return n, nil
}
