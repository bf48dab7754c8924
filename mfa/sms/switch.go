package sms

import (
	"context"
	"fmt"
	"sync"
)

// Choice is the delivery an admin chose while Gatehouse runs. Provider ""
// leaves delivery to the sender the deployment was configured with.
type Choice struct {
	Provider string // "", "console", "plivo" or "webhook"
	Voice    bool   // ask the provider for a call reading the code
	Plivo    PlivoConfig
	Webhook  WebhookConfig
}

// Switch is the Sender that follows the admin's choice: each Send asks choose
// for the current Choice and hands the message to that provider, building a
// new client only when the configuration changed. Secrets never leave it.
type Switch struct {
	choose   func(ctx context.Context) (Choice, error)
	fallback Sender   // the deployment's configured sender
	console  *Console // the console sender, kept so the dev outbox sees its messages

	mu      sync.Mutex
	built   Choice
	current Sender
}

// NewSwitch returns a Switch; console may be the fallback itself.
func NewSwitch(choose func(ctx context.Context) (Choice, error), fallback Sender, console *Console) *Switch {
	return &Switch{choose: choose, fallback: fallback, console: console, current: fallback}
}

// Name is the provider the last Send used, or the fallback's before any.
func (s *Switch) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current.Name()
}

// Send delivers m through the provider chosen now.
func (s *Switch) Send(ctx context.Context, m Message) (Receipt, error) {
	sender, voice, err := s.Sender(ctx)
	if err != nil {
		return Receipt{}, err
	}
	if voice {
		m.Channel = "voice"
	}
	r, err := sender.Send(ctx, m)
	r.Provider = sender.Name()
	return r, err
}

// Sender returns the provider chosen now and whether it should call rather
// than text.
func (s *Switch) Sender(ctx context.Context) (Sender, bool, error) {
	c, err := s.choose(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("sms: read the provider settings: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.Provider == "":
		s.current = s.fallback
	case c.Provider == "console" && s.console != nil:
		s.current = s.console
	case c.Provider == s.built.Provider && c.Plivo == s.built.Plivo && sameWebhook(c.Webhook, s.built.Webhook) && s.current.Name() == c.Provider:
	default:
		next, err := build(c)
		if err != nil {
			return nil, false, permanent(err)
		}
		s.built, s.current = c, next
	}
	return s.current, c.Voice, nil
}

// Plivo returns the Plivo sender when Plivo delivers now, for checking the
// signatures of its status callbacks.
func (s *Switch) Plivo(ctx context.Context) (*Plivo, bool) {
	sender, _, err := s.Sender(ctx)
	if err != nil {
		return nil, false
	}
	p, ok := sender.(*Plivo)
	return p, ok
}

func sameWebhook(a, b WebhookConfig) bool { return a.URL == b.URL && a.Secret == b.Secret }

func build(c Choice) (Sender, error) {
	switch c.Provider {
	case "plivo":
		return NewPlivo(c.Plivo)
	case "webhook":
		return NewWebhook(c.Webhook)
	}
	return nil, fmt.Errorf("sms: no provider named %q", c.Provider)
}
