package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

// Sender delivers one message; mfa/sms provides the implementations.
type Sender interface {
	Name() string
	Send(ctx context.Context, m sms.Message) (sms.Receipt, error)
}

// MailSender delivers one mail; package mail provides the implementations.
type MailSender interface {
	Name() string
	Send(ctx context.Context, m mail.Message) (mail.Receipt, error)
}

// courier is what differs between the channels a Dispatcher serves: how a
// claimed row opens into a message, who sends it, and which failures are
// final. Leases, retries and expiry are the same for every channel.
type courier struct {
	name      func() string
	permanent func(error) bool
	// prepare opens the row; the returned send makes one attempt and gives
	// the provider's message id.
	prepare func(r Row) (send func(context.Context) (string, error), err error)
}

// newCourier composes a channel's courier from how its rows open (open), its
// sender (name, send), where a receipt keeps the provider's id (id), and which
// errors are final (permanent).
func newCourier[M, R any](open func(Row) (M, error), name func() string, send func(context.Context, M) (R, error),
	id func(R) string, permanent func(error) bool) courier {
	return courier{name: name, permanent: permanent, prepare: func(r Row) (func(context.Context) (string, error), error) {
		msg, err := open(r)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (string, error) {
			receipt, err := send(ctx, msg)
			return id(receipt), err
		}, nil
	}}
}

// DispatcherOptions tune a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	Owner       string        // names this dispatcher in leases; default host-pid-random
	Lease       time.Duration // how long a claim holds a row; default 30s
	SendTimeout time.Duration // bound on one Send; default 15s, at most half of Lease
	Batch       int           // rows per claim; default 10, sent concurrently
	Poll        time.Duration // Run's wait between rounds when not woken; default 500ms
	MaxAttempts int           // sends tried before a row fails; default 8
	// Backoff is the wait after the attempt-th failed attempt; default
	// DefaultBackoff.
	Backoff func(attempt int) time.Duration
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default slog.Default()
	// OnResult, if set, is told each attempt's outcome: status is sent, retry,
	// failed or expired. Provider is the sender's name.
	OnResult func(r Row, provider, status string)
}

// DefaultBackoff waits about 1s, 2s, 4s … capped at 60s after successive
// failures, each shortened by up to a quarter at random so that rows failed by
// one outage do not all come back in the same instant.
func DefaultBackoff(attempt int) time.Duration { return BackoffUpTo(time.Minute)(attempt) }

// BackoffUpTo is DefaultBackoff with another cap. Mail links live for
// minutes to hours, not the five minutes of a code, so the mail dispatcher
// waits longer between attempts and rides out a longer relay outage.
func BackoffUpTo(limit time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := time.Second << min(max(attempt-1, 0), 20)
		d = min(d, limit)
		return d - mathrand.N(d/4)
	}
}

// Dispatcher claims due rows and sends them. Run one per replica; dispatchers
// on one database never send the same row at once (see the package doc for
// what happens when one dies).
type Dispatcher struct {
	channel string // "sms" or "mail", for logs and errors
	c       courier
	st      Store
	opts    DispatcherOptions
	wake    chan struct{}
}

// NewDispatcher returns a dispatcher that sends o's text messages with sender.
func NewDispatcher(o *Outbox, st Store, sender Sender, opts DispatcherOptions) *Dispatcher {
	return newDispatcher("sms", newCourier(o.Open, sender.Name, sender.Send,
		func(r sms.Receipt) string { return r.ProviderMessageID }, sms.IsPermanent), st, opts)
}

// NewMailDispatcher returns a dispatcher that sends o's mails with sender; st
// is the mail outbox's table.
func NewMailDispatcher(o *Outbox, st Store, sender MailSender, opts DispatcherOptions) *Dispatcher {
	return newDispatcher("mail", newCourier(o.OpenMail, sender.Name, sender.Send,
		func(r mail.Receipt) string { return r.ProviderMessageID }, mail.IsPermanent), st, opts)
}

func newDispatcher(channel string, c courier, st Store, opts DispatcherOptions) *Dispatcher {
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 15 * time.Second
	}
	// The lease must outlast the send and the report of its outcome, or another
	// dispatcher would claim the row while it is still being sent.
	opts.SendTimeout = min(opts.SendTimeout, opts.Lease/2)
	if opts.Batch <= 0 {
		opts.Batch = 10
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Dispatcher{channel: channel, c: c, st: st, opts: opts, wake: make(chan struct{}, 1)}
}

// Wake starts a round now rather than after Poll; call it once the transaction
// that enqueued a message has committed. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends: a round, then a wait of Poll or until Wake,
// at once if the round claimed a full batch. It returns when ctx ends and the
// sends in flight have been recorded.
func (d *Dispatcher) Run(ctx context.Context) {
	timer := time.NewTimer(d.opts.Poll)
	defer timer.Stop()
	for {
		claimed, _, err := d.round(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := d.opts.Poll
		switch {
		case err != nil && claimed == 0:
			d.opts.Log.Warn(d.channel+" outbox claim failed", "err", err)
			wait = max(wait, 5*time.Second) // the database is likely down: do not hammer it
		case err != nil:
			d.opts.Log.Warn(d.channel+" outbox outcome not recorded", "err", err)
		}
		if claimed == d.opts.Batch {
			continue // more rows may be due
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// RunOnce claims one batch of due rows, sends them and records the outcomes.
// It reports how many messages the provider accepted.
func (d *Dispatcher) RunOnce(ctx context.Context) (sent int, err error) {
	_, sent, err = d.round(ctx)
	return sent, err
}

func (d *Dispatcher) round(ctx context.Context) (claimed, sent int, err error) {
	rows, err := d.st.ClaimOutbox(ctx, d.opts.Owner, d.opts.Now(), d.opts.Lease, d.opts.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("claim %s outbox rows: %w", d.channel, err)
	}
	// Once claimed, a row is sent and its outcome recorded even if ctx ends:
	// abandoned, it would sit leased, and a message the provider had accepted
	// would go out again when the lease ran out. The work has the lease's time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.Lease)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, r := range rows {
		wg.Go(func() {
			ok, err := d.dispatch(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return len(rows), sent, errors.Join(errs...)
}

// dispatch sends one claimed row and records the outcome. ok tells whether the
// provider accepted the message; err is a failure to record the outcome.
func (d *Dispatcher) dispatch(ctx context.Context, r Row) (ok bool, err error) {
	log := d.opts.Log.With("channel", d.channel, "message", r.ID, "purpose", r.Purpose, "attempt", r.Attempts)
	now := d.opts.Now()
	if !now.Before(r.ExpiresAt) {
		return false, d.finish(ctx, r, Expired, "the message expired before it could be sent", now)
	}
	send, err := d.c.prepare(r)
	if err != nil {
		log.Error("outbox row does not open; is GATEHOUSE_SECRET_KEY the one it was sealed with?", "err", err)
		return false, d.finish(ctx, r, Failed, err.Error(), now)
	}

	sendCtx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	providerMessageID, sendErr := send(sendCtx)
	cancel()

	now = d.opts.Now()
	provider := d.c.name()
	if sendErr == nil {
		d.result(r, Sent)
		err := record(ctx, func() error { return d.st.CompleteOutbox(ctx, r.ID, d.opts.Owner, provider, providerMessageID, now) })
		if err != nil {
			return true, fmt.Errorf("record %s %s as sent: %w", d.channel, r.ID, err)
		}
		log.Info(d.channel+" sent", "provider", provider, "provider_message_id", providerMessageID)
		return true, nil
	}

	switch {
	case d.c.permanent(sendErr):
		log.Warn(d.channel+" refused; not retrying", "provider", provider, "err", sendErr)
		return false, d.finish(ctx, r, Failed, sendErr.Error(), now)
	case r.Attempts >= d.opts.MaxAttempts:
		log.Warn(d.channel+" failed; out of attempts", "provider", provider, "err", sendErr)
		return false, d.finish(ctx, r, Failed, fmt.Sprintf("gave up after %d attempts: %v", r.Attempts, sendErr), now)
	}
	next := now.Add(d.opts.Backoff(r.Attempts))
	if !next.Before(r.ExpiresAt) {
		log.Warn(d.channel+" failed; it expires before another attempt", "provider", provider, "err", sendErr)
		return false, d.finish(ctx, r, Expired, "the message expires before the next attempt: "+sendErr.Error(), now)
	}
	log.Info(d.channel+" failed; will retry", "provider", provider, "err", sendErr, "next_attempt_at", next)
	d.result(r, "retry")
	if err := record(ctx, func() error { return d.st.RetryOutbox(ctx, r.ID, d.opts.Owner, truncate(sendErr.Error()), next) }); err != nil {
		return false, fmt.Errorf("schedule %s %s for retry: %w", d.channel, r.ID, err)
	}
	return false, nil
}

// finish ends a row as failed or expired.
func (d *Dispatcher) finish(ctx context.Context, r Row, status, reason string, now time.Time) error {
	d.result(r, status)
	if err := record(ctx, func() error { return d.st.FailOutbox(ctx, r.ID, d.opts.Owner, status, truncate(reason), now) }); err != nil {
		return fmt.Errorf("record %s %s as %s: %w", d.channel, r.ID, status, err)
	}
	return nil
}

// record writes an attempt's outcome, and writes it again after a failure
// until ctx, which lasts as long as the lease, ends: the database may be
// failing over, which takes seconds. A message the provider accepted whose row
// stayed "sending" would go out a second time once the lease ran out.
func record(ctx context.Context, write func() error) error {
	wait := 100 * time.Millisecond
	for {
		err := write()
		if err == nil || errors.Is(err, ErrLeaseLost) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (d *Dispatcher) result(r Row, status string) {
	if d.opts.OnResult != nil {
		d.opts.OnResult(r, d.c.name(), status)
	}
}

// truncate keeps a provider's error message to a size worth storing.
func truncate(s string) string {
	const limit = 1000
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
