// Package outbox makes sure no text message or mail is lost: a message is a
// row before it is anything else, and every replica dispatches rows. SMS and
// mail have a table each (the store gives one Store per table) and share
// everything else: sealing, leases, retries with backoff and expiry.
//
//	Enqueue ─(same tx as the challenge)─▶ queued
//	Dispatcher: claim (commits) ─▶ sending ─▶ Sender.Send (no tx open) ─▶ sent
//	                                 │  temporary error: queued again after a backoff
//	                                 │  permanent error, or out of attempts: failed
//	                                 └─ the code's ExpiresAt passed: expired, never sent
//	delivery report ─▶ delivered | undelivered | failed (never backwards)
//
// A claim leases the row to one dispatcher for Lease, longer than any send may
// take. A replica that dies holding a lease delays its rows until the lease
// runs out; then another dispatcher claims and sends them, and the dead one's
// late report is refused (ErrLeaseLost). Delivery is therefore at least once:
// a replica that dies after the provider accepted a message but before the row
// says so causes a second send. A database that goes away for less than the
// lease, as in a failover to a synchronous standby, does not: the dispatcher
// keeps trying to record the outcome while its lease lasts. The row id is the message id (sms.Message.ID)
// on every attempt, so a provider that deduplicates on a client reference sees
// the same reference twice.
//
// The recipient, text and code are sealed with a key derived from the master
// key (see Sealer); the store holds them only as ciphertext, bound to the row
// id, and empties it once the row is finished.
//
// The package knows no SQL: it declares the Store it needs and the store
// package implements it.
package outbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
)

// Row statuses.
const (
	Queued      = "queued"
	Sending     = "sending"
	Sent        = "sent"
	Delivered   = "delivered"
	Undelivered = "undelivered"
	Failed      = "failed"
	Expired     = "expired"
)

// Retention is how long rows are kept, for delivery reports and the admin's
// view of recent messages; pass now minus Retention to the store's cleanup.
const Retention = 7 * 24 * time.Hour

// ErrLeaseLost means the row is no longer leased by the dispatcher reporting
// on it: its lease ran out and another dispatcher claimed it.
var ErrLeaseLost = errors.New("outbox: row is not leased by this dispatcher")

// Row is one message as stored.
type Row struct {
	ID                string // also the message id given to the sender
	ChallengeID       string
	UserID            string // empty when the message is for no known user
	Purpose           string
	Status            string
	Provider          string
	ProviderMessageID string
	LastError         string
	ErrorCode         string // the provider's, from a delivery report
	CountryCode       int
	Attempts          int
	Sealed            []byte
	CreatedAt         time.Time
	ExpiresAt         time.Time
	NextAttemptAt     time.Time
	SentAt            time.Time // zero until sent
	DeliveredAt       time.Time // zero until a report says delivered
}

// Store keeps the outbox. Every method joins a transaction carried in ctx.
type Store interface {
	// InsertOutbox stores a new row; inside a transaction it commits or rolls
	// back with whatever else the transaction holds.
	InsertOutbox(ctx context.Context, row Row) error
	// ClaimOutbox leases up to limit due rows to owner until now+lease, skipping
	// rows other claims hold, and counts an attempt on each. Due is queued with
	// NextAttemptAt reached, or sending with an expired lease.
	ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Row, error)
	// CompleteOutbox, RetryOutbox and FailOutbox record an attempt's outcome,
	// and return ErrLeaseLost unless owner still holds the row's lease.
	CompleteOutbox(ctx context.Context, id, owner, provider, providerMessageID string, now time.Time) error
	RetryOutbox(ctx context.Context, id, owner, lastError string, next time.Time) error
	FailOutbox(ctx context.Context, id, owner, status, lastError string, now time.Time) error
	// UpdateDelivery applies a provider's delivery report (status sent,
	// delivered, undelivered or failed). It never moves a row backwards:
	// delivered stays delivered. found tells whether the message is known.
	UpdateDelivery(ctx context.Context, provider, providerMessageID, status, errorCode string, now time.Time) (found bool, err error)
}

// Enqueued is a message to send.
type Enqueued struct {
	ChallengeID string
	UserID      string
	Purpose     string
	CountryCode int
	Message     sms.Message // its ID is ignored: the row id becomes the message id
	ExpiresAt   time.Time   // the code is useless after this; the message is never sent later
}

// Outbox puts messages into the store and reads them back.
type Outbox struct {
	st     Store
	sealer *Sealer
	now    func() time.Time
}

// New returns an Outbox; now defaults to time.Now.
func New(st Store, sealer *Sealer, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{st: st, sealer: sealer, now: now}
}

// Enqueue seals the message and inserts it as a queued row, due at once, and
// returns the row id. Call it with the transaction that stores the challenge
// in ctx, so both commit or neither does. The message goes out on the next
// dispatch round; a Dispatcher in this process can be woken (Wake) after the
// transaction commits so that round starts at once.
func (o *Outbox) Enqueue(ctx context.Context, e Enqueued) (string, error) {
	return o.insert(ctx, Row{ChallengeID: e.ChallengeID, UserID: e.UserID, Purpose: e.Purpose,
		CountryCode: e.CountryCode, ExpiresAt: e.ExpiresAt},
		secret{To: e.Message.To, Text: e.Message.Text, Code: e.Message.Code, Locale: e.Message.Locale})
}

// MailEnqueued is a mail to send.
type MailEnqueued struct {
	UserID    string
	Message   mail.Message // its ID is ignored: the row id becomes the message id
	ExpiresAt time.Time    // the link is useless after this; the mail is never sent later
}

// EnqueueMail is Enqueue for a mail; o must have been made with the mail
// outbox's table. Call it with the transaction that stores the link's token.
func (o *Outbox) EnqueueMail(ctx context.Context, e MailEnqueued) (string, error) {
	m := e.Message
	return o.insert(ctx, Row{UserID: e.UserID, Purpose: m.Purpose, ExpiresAt: e.ExpiresAt},
		secret{To: m.To, Text: m.Text, Subject: m.Subject, HTML: m.HTML})
}

func (o *Outbox) insert(ctx context.Context, r Row, v secret) (string, error) {
	now := o.now()
	switch {
	case v.To == "":
		return "", errors.New("outbox: message has no recipient")
	case r.Purpose == "":
		return "", errors.New("outbox: message has no purpose")
	case !now.Before(r.ExpiresAt):
		return "", fmt.Errorf("outbox: message expires at %v, not after now (%v)", r.ExpiresAt, now)
	}
	r.ID = newID()
	sealed, err := o.sealer.seal(r.ID, v)
	if err != nil {
		return "", fmt.Errorf("seal message: %w", err)
	}
	r.Status, r.Sealed, r.CreatedAt, r.NextAttemptAt = Queued, sealed, now, now
	if err := o.st.InsertOutbox(ctx, r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// Open unseals a row into the message to send; its ID is the row id.
func (o *Outbox) Open(r Row) (sms.Message, error) {
	v, err := o.sealer.open(r.ID, r.Sealed)
	if err != nil {
		return sms.Message{}, err
	}
	return sms.Message{ID: r.ID, To: v.To, Text: v.Text, Code: v.Code, Purpose: r.Purpose, Locale: v.Locale}, nil
}

// OpenMail unseals a mail row; its ID is the row id.
func (o *Outbox) OpenMail(r Row) (mail.Message, error) {
	v, err := o.sealer.open(r.ID, r.Sealed)
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{ID: r.ID, To: v.To, Subject: v.Subject, Text: v.Text, HTML: v.HTML, Purpose: r.Purpose}, nil
}

// newID returns a random (version 4) UUID: the row id is needed before the
// insert, as the additional data of the sealed message.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
