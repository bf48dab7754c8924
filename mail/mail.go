// Package mail delivers one email. It is the email edge of Gatehouse, the
// sibling of mfa/sms: it knows nothing of SQL or HTTP. The outbox decides what
// to send and when to retry; a Sender only tries once and says whether trying
// again could help.
//
// Two senders exist:
//
//	smtp     an SMTP relay (github.com/wneessen/go-mail v0.8.1), implicit TLS or STARTTLS, with auth
//	console  development: logs the mail and keeps the last few for the dev outbox page
//
// Composer renders the account mails (address verification, password reset)
// from the embedded templates under templates/mail.
package mail

import (
	"context"
	"errors"
)

// Message is one mail to deliver, as plain text with an HTML alternative.
type Message struct {
	ID      string // the outbox row id; it becomes the Message-ID's local part
	To      string
	Subject string
	Text    string
	HTML    string
	Purpose string // "verify" or "reset"
}

// Receipt is what the relay said when it accepted a message.
type Receipt struct{ ProviderMessageID string }

// Sender delivers one message. Send makes one attempt and returns when ctx
// ends at the latest; an error is temporary unless IsPermanent says otherwise.
type Sender interface {
	Name() string // "smtp", "console"
	Send(ctx context.Context, m Message) (Receipt, error)
}

// PermanentError marks a failure that retrying cannot fix, such as a relay
// refusing the recipient or the sender address with a 5xx reply.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err, or an error it wraps, is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
