package sms

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Console is the development sender: it delivers nothing, logs each message,
// code included, and keeps the last few for the dev outbox page. It is safe
// for concurrent use. Never configure it in production: the log holds codes.
type Console struct {
	log  *slog.Logger
	mu   sync.Mutex
	ring []Sent // ring[next] is the oldest once the ring is full
	next int
	full bool
}

// Sent is a message the console sender took, and when.
type Sent struct {
	Message
	At time.Time
}

var _ Sender = (*Console)(nil)

// NewConsole logs to log (slog.Default() if nil) and keeps the last keep
// messages; keep < 1 keeps none.
func NewConsole(log *slog.Logger, keep int) *Console {
	if log == nil {
		log = slog.Default()
	}
	return &Console{log: log, ring: make([]Sent, max(keep, 0))}
}

func (c *Console) Name() string { return "console" }

// Send logs m at Info and keeps it. It fails only when ctx has ended.
func (c *Console) Send(ctx context.Context, m Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "sms (console sender, not delivered)",
		slog.String("message_id", m.ID), slog.String("to", m.To),
		slog.String("purpose", m.Purpose), slog.String("text", m.Text))
	if len(c.ring) > 0 {
		c.mu.Lock()
		c.ring[c.next] = Sent{Message: m, At: time.Now()}
		c.next = (c.next + 1) % len(c.ring)
		c.full = c.full || c.next == 0
		c.mu.Unlock()
	}
	return Receipt{ProviderMessageID: m.ID}, nil
}

// Recent returns the kept messages, newest first.
func (c *Console) Recent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next
	if c.full {
		n = len(c.ring)
	}
	out := make([]Sent, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, c.ring[(c.next-i+len(c.ring))%len(c.ring)])
	}
	return out
}
