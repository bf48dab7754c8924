package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/outbox"
)

const outboxColumns = `id::text, challenge_id, coalesce(user_id::text, ''), purpose, status, provider,
	coalesce(provider_message_id, ''), last_error, error_code, country_code, attempts, sealed,
	created_at, expires_at, next_attempt_at, sent_at, delivered_at`

// OutboxTable is one outbox table, sms_outbox or mail_outbox: they have one
// shape and one set of lease rules, and each implements outbox.Store. The
// Store's own outbox methods are the SMS table's.
type OutboxTable struct {
	s     *Store
	table string
}

// MailOutbox is the table of the account mails (verification, reset).
func (s *Store) MailOutbox() *OutboxTable { return &OutboxTable{s: s, table: "mail_outbox"} }

func (s *Store) smsOutbox() *OutboxTable { return &OutboxTable{s: s, table: "sms_outbox"} }

// q names the table in a statement written with the placeholder <outbox>.
func (t *OutboxTable) q(sql string) string { return strings.ReplaceAll(sql, "<outbox>", t.table) }

func (s *Store) InsertOutbox(ctx context.Context, r outbox.Row) error {
	return s.smsOutbox().InsertOutbox(ctx, r)
}

func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]outbox.Row, error) {
	return s.smsOutbox().ClaimOutbox(ctx, owner, now, lease, limit)
}

func (s *Store) CompleteOutbox(ctx context.Context, id, owner, provider, providerMessageID string, now time.Time) error {
	return s.smsOutbox().CompleteOutbox(ctx, id, owner, provider, providerMessageID, now)
}

func (s *Store) RetryOutbox(ctx context.Context, id, owner, lastError string, next time.Time) error {
	return s.smsOutbox().RetryOutbox(ctx, id, owner, lastError, next)
}

func (s *Store) FailOutbox(ctx context.Context, id, owner, status, lastError string, now time.Time) error {
	return s.smsOutbox().FailOutbox(ctx, id, owner, status, lastError, now)
}

func (s *Store) UpdateDelivery(ctx context.Context, provider, providerMessageID, status, errorCode string, now time.Time) (bool, error) {
	return s.smsOutbox().UpdateDelivery(ctx, provider, providerMessageID, status, errorCode, now)
}

func (s *Store) RecentOutbox(ctx context.Context, limit int) ([]outbox.Row, error) {
	return s.smsOutbox().RecentOutbox(ctx, limit)
}

func (s *Store) DeleteOldOutbox(ctx context.Context, before time.Time) (int64, error) {
	return s.smsOutbox().DeleteOldOutbox(ctx, before)
}

func scanOutbox(row pgx.Row) (outbox.Row, error) {
	var r outbox.Row
	var sent, delivered *time.Time
	err := row.Scan(&r.ID, &r.ChallengeID, &r.UserID, &r.Purpose, &r.Status, &r.Provider,
		&r.ProviderMessageID, &r.LastError, &r.ErrorCode, &r.CountryCode, &r.Attempts, &r.Sealed,
		&r.CreatedAt, &r.ExpiresAt, &r.NextAttemptAt, &sent, &delivered)
	if sent != nil {
		r.SentAt = *sent
	}
	if delivered != nil {
		r.DeliveredAt = *delivered
	}
	return r, err
}

func collectOutbox(rows pgx.Rows) ([]outbox.Row, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (outbox.Row, error) { return scanOutbox(r) })
}

// InsertOutbox stores a new message; an empty status is queued, and a zero
// NextAttemptAt makes it due at CreatedAt.
func (t *OutboxTable) InsertOutbox(ctx context.Context, r outbox.Row) error {
	var userID any
	if r.UserID != "" {
		userID = r.UserID
	}
	_, err := t.s.db(ctx).Exec(ctx, t.q(`
		insert into <outbox> (id, challenge_id, user_id, purpose, country_code, sealed, status,
			next_attempt_at, created_at, expires_at, updated_at)
		values ($1, $2, $3, $4, $5, $6, coalesce(nullif($7, ''), 'queued'), coalesce($8::timestamptz, $9), $9, $10, $9)`),
		r.ID, r.ChallengeID, userID, r.Purpose, r.CountryCode, r.Sealed, r.Status,
		nullTime(r.NextAttemptAt), r.CreatedAt, r.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert %s row: %w", t.table, err)
	}
	return nil
}

// ClaimOutbox leases due rows in one statement. Rows another claim has locked
// are skipped rather than waited for, so dispatchers on every replica share the
// work without blocking one another. A claimed row's next_attempt_at moves to
// its lease's end: that is when it is due again if its dispatcher dies.
func (t *OutboxTable) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]outbox.Row, error) {
	leaseEnd := now.Add(lease)
	rows, err := t.s.db(ctx).Query(ctx, t.q(`
		update <outbox>
		set status = 'sending', attempts = attempts + 1, lease_owner = $1, lease_expires_at = $3,
			next_attempt_at = $3, updated_at = $2
		where id in (
			select id from <outbox>
			where status in ('queued', 'sending') and next_attempt_at <= $2
				and (status = 'queued' or lease_expires_at <= $2)
			order by next_attempt_at
			limit $4
			for update skip locked)
		returning `+outboxColumns),
		owner, now, leaseEnd, limit)
	if err != nil {
		return nil, fmt.Errorf("claim %s rows: %w", t.table, err)
	}
	claimed, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("claim %s rows: %w", t.table, err)
	}
	return claimed, nil
}

// CompleteOutbox marks a leased row sent. A provider message id already
// recorded for another message (a custom provider may not make them unique) is
// not stored, so that the message still counts as sent; its delivery reports
// then find nothing, and last_error says why.
func (t *OutboxTable) CompleteOutbox(ctx context.Context, id, owner, provider, providerMessageID string, now time.Time) error {
	note := fmt.Sprintf("provider message id %q is already another message's: delivery reports cannot reach this one", providerMessageID)
	complete := func() error {
		return t.endLease(ctx, "complete", `
			with dup as (
				select exists (select 1 from <outbox>
					where provider = $3 and provider_message_id = $4 and id <> $1) as taken
			)
			update <outbox>
			set status = 'sent', provider = $3, sent_at = $5, lease_expires_at = null, updated_at = $5,
				provider_message_id = case when dup.taken then null else nullif($4, '') end,
				last_error = case when dup.taken then $6 else last_error end
			from dup
			where id = $1 and status = 'sending' and lease_owner = $2`,
			id, owner, provider, providerMessageID, now, note)
	}
	err := complete()
	if isUniqueViolation(err) { // the same id was stored by another message just now
		err = complete()
	}
	return err
}

// RetryOutbox puts a leased row back in the queue, due at next.
func (t *OutboxTable) RetryOutbox(ctx context.Context, id, owner, lastError string, next time.Time) error {
	return t.endLease(ctx, "retry", `
		update <outbox>
		set status = 'queued', next_attempt_at = $3, last_error = $4, lease_expires_at = null, updated_at = now()
		where id = $1 and status = 'sending' and lease_owner = $2`,
		id, owner, next, lastError)
}

// FailOutbox ends a leased row as failed or expired.
func (t *OutboxTable) FailOutbox(ctx context.Context, id, owner, status, lastError string, now time.Time) error {
	if status != outbox.Failed && status != outbox.Expired {
		return fmt.Errorf("fail sms outbox row: status %q is neither failed nor expired", status)
	}
	return t.endLease(ctx, "fail", `
		update <outbox>
		set status = $3, last_error = $4, lease_expires_at = null, updated_at = $5
		where id = $1 and status = 'sending' and lease_owner = $2`,
		id, owner, status, lastError, now)
}

// endLease runs sql, an update of row id ($1) that applies only while owner
// ($2) holds its lease.
func (t *OutboxTable) endLease(ctx context.Context, what, sql, id, owner string, args ...any) error {
	if !account.IsUUID(id) {
		return outbox.ErrLeaseLost
	}
	tag, err := t.s.db(ctx).Exec(ctx, t.q(sql), append([]any{id, owner}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %s row: %w", what, t.table, err)
	}
	if tag.RowsAffected() == 0 {
		return outbox.ErrLeaseLost
	}
	return nil
}

// deliveryRank orders statuses by how far a message got; a delivery report
// only ever raises it. Reports can arrive out of order (sent after delivered).
const deliveryRank = `case %s when 'sent' then 1 when 'undelivered' then 2 when 'failed' then 2
	when 'delivered' then 3 else 0 end`

// UpdateDelivery applies a delivery report to the message the provider knows
// by providerMessageID.
func (t *OutboxTable) UpdateDelivery(ctx context.Context, provider, providerMessageID, status, errorCode string, now time.Time) (bool, error) {
	switch status {
	case outbox.Sent, outbox.Delivered, outbox.Undelivered, outbox.Failed:
	default:
		return false, fmt.Errorf("update sms delivery: unknown status %q", status)
	}
	if !storableText(provider) || !storableText(providerMessageID) || !storableText(errorCode) {
		return false, nil
	}
	var found bool
	err := t.s.db(ctx).QueryRow(ctx, t.q(`
		with target as (
			select id from <outbox> where provider = $1 and provider_message_id = $2
		), moved as (
			update <outbox>
			set status = $3, error_code = $4, updated_at = $5,
				delivered_at = case when $3 = 'delivered' then $5 else delivered_at end
			where id in (select id from target)
				and `+fmt.Sprintf(deliveryRank, "$3::text")+` > `+fmt.Sprintf(deliveryRank, "status")+`
			returning 1
		)
		select exists (select 1 from target)`),
		provider, providerMessageID, status, errorCode, now).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("update sms delivery: %w", err)
	}
	return found, nil
}

// RecentOutbox lists the newest rows first.
func (t *OutboxTable) RecentOutbox(ctx context.Context, limit int) ([]outbox.Row, error) {
	rows, err := t.s.db(ctx).Query(ctx, t.q(`select `+outboxColumns+` from <outbox> order by created_at desc, id limit $1`), limit)
	if err != nil {
		return nil, fmt.Errorf("recent %s rows: %w", t.table, err)
	}
	list, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("recent %s rows: %w", t.table, err)
	}
	return list, nil
}

// DeleteOldOutbox empties the sealed message of every finished row — nothing
// will send it again, and a delivery report needs only the provider's id — and
// deletes rows created before before (the janitor passes now minus
// outbox.Retention). It reports how many rows it deleted.
func (t *OutboxTable) DeleteOldOutbox(ctx context.Context, before time.Time) (int64, error) {
	return t.s.purgeAll(ctx, outboxSteps(t.table, before))
}

// outboxSteps wipe the finished rows' messages, then delete the old rows.
func outboxSteps(table string, before time.Time) []purgeStep {
	return []purgeStep{
		{what: table + " (wipe)", table: table, set: `sealed = ''::bytea`,
			where: `length(sealed) > 0 and status in ('sent', 'delivered', 'undelivered', 'failed', 'expired')`},
		{what: table, table: table, where: `created_at < $1`, arg: before},
	}
}
