package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Console is the development sender: it delivers nothing, logs each mail,
// links included, and keeps the last few for the dev outbox page. Never use it
// in production: the log holds live verification and reset links.
type Console struct {
	log  *slog.Logger
	keep int
	mu   sync.Mutex
	kept []Sent // newest first
}

// Sent is a mail the console sender took, and when.
type Sent struct {
	Message
	At time.Time
}

var _ Sender = (*Console)(nil)

// NewConsole logs to log (slog.Default() if nil) and keeps the last keep mails.
func NewConsole(log *slog.Logger, keep int) *Console {
	if log == nil {
		log = slog.Default()
	}
	return &Console{log: log, keep: max(keep, 0)}
}

func (c *Console) Name() string { return "console" }

// Send logs m at Info and keeps it. It fails only when ctx has ended.
func (c *Console) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "mail (console sender, not delivered)",
		slog.String("message_id", m.ID), slog.String("to", m.To),
		slog.String("subject", m.Subject), slog.String("text", m.Text))
	c.mu.Lock()
	c.kept = append([]Sent{{Message: m, At: time.Now()}}, c.kept...)
	c.kept = c.kept[:min(len(c.kept), c.keep)]
	c.mu.Unlock()
	return Receipt{ProviderMessageID: m.ID}, nil
}

// Recent returns the kept mails, newest first.
func (c *Console) Recent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sent(nil), c.kept...)
}
