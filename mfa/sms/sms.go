// Package sms delivers one text message through a provider. It is the SMS edge
// of Gatehouse: it knows nothing of SQL or of HTTP routing. The outbox decides
// what to send and when to retry; a Sender only tries once and says whether
// trying again could help.
//
// Three senders exist:
//
//	plivo    Plivo's Message API (github.com/plivo/plivo-go/v7), with signed status callbacks
//	webhook  a POST of signed JSON to a URL the operator runs, like Auth0's "Send Phone Message"
//	console  development: logs the text and keeps the last few for the dev outbox page
//
// Package plivotest is a fake Plivo for tests of this and other packages.
package sms

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
)

// Message is one text to deliver.
type Message struct {
	ID      string // the outbox row id; providers get it as an idempotency / correlation id
	To      string // E.164, e.g. +447700900123
	Text    string // full text, already including the WebOTP last line
	Code    string // the bare code, for the webhook provider
	Purpose string // "enroll" or "challenge"
	Locale  string // e.g. "en"
	Channel string // "sms", or "voice" where the provider places calls; "" is sms
}

// Receipt is what a provider said when it accepted a message.
type Receipt struct {
	ProviderMessageID string
	Provider          string // set by a Switch: the provider that took the message
}

// Sender delivers one message. Send makes one attempt and returns when ctx
// ends at the latest; an error is temporary unless IsPermanent says otherwise.
type Sender interface {
	Name() string // "plivo", "webhook", "console"
	Send(ctx context.Context, m Message) (Receipt, error)
}

// PermanentError marks a failure that retrying cannot fix: the provider said
// the number is invalid, rejected the credentials (401, 403), or refused the
// request with another 4xx than 408 or 429. Every other failure (timeouts,
// 5xx, 408, 429, network errors) is temporary. Senders return *PermanentError.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err, or an error it wraps, is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

func permanent(err error) error { return &PermanentError{Err: err} }

// Text is the message that carries a code:
//
//	Your <app> verification code is 123456
//
//	@id.example.com #123456
//
// The last line is the WebOTP origin-bound line
// (https://wicg.github.io/sms-one-time-codes/) that lets a phone offer the code
// to the login page of that host. issuerHost may carry a port or be a whole URL;
// the line holds the bare host name.
func Text(appName, code, issuerHost string) string {
	host := issuerHost
	if u, err := url.Parse(issuerHost); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // an IPv6 address is written as in a URL
	}
	host = strings.ToLower(host)
	return "Your " + appName + " verification code is " + code + "\n\n@" + host + " #" + code
}
