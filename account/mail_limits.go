package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/limits"
)

// MailLimitError says a mail was not sent because a limit was reached; the
// limit's window ends at RetryAt.
type MailLimitError struct{ RetryAt time.Time }

func (e *MailLimitError) Error() string {
	return "too many mails; retry at " + e.RetryAt.Format(time.RFC3339)
}

// takeMailSends counts one mail to address asked for from m.IP. The address
// is counted by a hash: the counters need no readable addresses.
func (s *Service) takeMailSends(ctx context.Context, address string, m Meta, now time.Time) error {
	sum := sha256.Sum256([]byte(emailKey(address)))
	cs := append(limits.Counters("address", "mail-to:"+hex.EncodeToString(sum[:16]), now, s.emailRules.PerAddress...),
		limits.Counters("ip", "mail-ip:"+limits.IPKey(m.IP), now, s.emailRules.PerIP...)...)
	refused, taken, err := limits.Take(ctx, s.email, cs)
	if err != nil {
		return fmt.Errorf("count mail sends: %w", err)
	}
	if !taken {
		return &MailLimitError{RetryAt: refused.WindowEnd}
	}
	return nil
}

// mailRefused audits a mail a limit refused and passes err on.
func (s *Service) mailRefused(ctx context.Context, err error, address string, m Meta) error {
	var limit *MailLimitError
	if errors.As(err, &limit) {
		s.record(ctx, Event{Type: EventMailLimitHit, Subject: emailKey(address),
			Details: map[string]any{"retry_at": limit.RetryAt}}, m)
	}
	return err
}
