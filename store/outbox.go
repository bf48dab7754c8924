package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/outbox"
)

const outboxColumns = `id::text, challenge_id, coalesce(user_id::text, ''), purpose, status, provider,
	coalesce(provider_message_id, ''), last_error, error_code, country_code, attempts, sealed,
	created_at, expires_at, next_attempt_at, sent_at, delivered_at`

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
func (s *Store) InsertOutbox(ctx context.Context, r outbox.Row) error {
	var userID any
	if r.UserID != "" {
		userID = r.UserID
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into sms_outbox (id, challenge_id, user_id, purpose, country_code, sealed, status,
			next_attempt_at, created_at, expires_at, updated_at)
		values ($1, $2, $3, $4, $5, $6, coalesce(nullif($7, ''), 'queued'), coalesce($8::timestamptz, $9), $9, $10, $9)`,
		r.ID, r.ChallengeID, userID, r.Purpose, r.CountryCode, r.Sealed, r.Status,
		nullTime(r.NextAttemptAt), r.CreatedAt, r.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert sms outbox row: %w", err)
	}
	return nil
}

// ClaimOutbox leases due rows in one statement. Rows another claim has locked
// are skipped rather than waited for, so dispatchers on every replica share the
// work without blocking one another. A claimed row's next_attempt_at moves to
// its lease's end: that is when it is due again if its dispatcher dies.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]outbox.Row, error) {
	leaseEnd := now.Add(lease)
	rows, err := s.db(ctx).Query(ctx, `
		update sms_outbox
		set status = 'sending', attempts = attempts + 1, lease_owner = $1, lease_expires_at = $3,
			next_attempt_at = $3, updated_at = $2
		where id in (
			select id from sms_outbox
			where status in ('queued', 'sending') and next_attempt_at <= $2
				and (status = 'queued' or lease_expires_at <= $2)
			order by next_attempt_at
			limit $4
			for update skip locked)
		returning `+outboxColumns,
		owner, now, leaseEnd, limit)
	if err != nil {
		return nil, fmt.Errorf("claim sms outbox rows: %w", err)
	}
	claimed, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("claim sms outbox rows: %w", err)
	}
	return claimed, nil
}

// CompleteOutbox marks a leased row sent. A provider message id already
// recorded for another message (a custom provider may not make them unique) is
// not stored, so that the message still counts as sent; its delivery reports
// then find nothing, and last_error says why.
func (s *Store) CompleteOutbox(ctx context.Context, id, owner, provider, providerMessageID string, now time.Time) error {
	note := fmt.Sprintf("provider message id %q is already another message's: delivery reports cannot reach this one", providerMessageID)
	complete := func() error {
		return s.endLease(ctx, "complete", `
			with dup as (
				select exists (select 1 from sms_outbox
					where provider = $3 and provider_message_id = $4 and id <> $1) as taken
			)
			update sms_outbox
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
func (s *Store) RetryOutbox(ctx context.Context, id, owner, lastError string, next time.Time) error {
	return s.endLease(ctx, "retry", `
		update sms_outbox
		set status = 'queued', next_attempt_at = $3, last_error = $4, lease_expires_at = null, updated_at = now()
		where id = $1 and status = 'sending' and lease_owner = $2`,
		id, owner, next, lastError)
}

// FailOutbox ends a leased row as failed or expired.
func (s *Store) FailOutbox(ctx context.Context, id, owner, status, lastError string, now time.Time) error {
	if status != outbox.Failed && status != outbox.Expired {
		return fmt.Errorf("fail sms outbox row: status %q is neither failed nor expired", status)
	}
	return s.endLease(ctx, "fail", `
		update sms_outbox
		set status = $3, last_error = $4, lease_expires_at = null, updated_at = $5
		where id = $1 and status = 'sending' and lease_owner = $2`,
		id, owner, status, lastError, now)
}

// endLease runs sql, an update of row id ($1) that applies only while owner
// ($2) holds its lease.
func (s *Store) endLease(ctx context.Context, what, sql, id, owner string, args ...any) error {
	if !validUUID(id) {
		return outbox.ErrLeaseLost
	}
	tag, err := s.db(ctx).Exec(ctx, sql, append([]any{id, owner}, args...)...)
	if err != nil {
		return fmt.Errorf("%s sms outbox row: %w", what, err)
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
func (s *Store) UpdateDelivery(ctx context.Context, provider, providerMessageID, status, errorCode string, now time.Time) (bool, error) {
	switch status {
	case outbox.Sent, outbox.Delivered, outbox.Undelivered, outbox.Failed:
	default:
		return false, fmt.Errorf("update sms delivery: unknown status %q", status)
	}
	if !storableText(provider) || !storableText(providerMessageID) || !storableText(errorCode) {
		return false, nil
	}
	var found bool
	err := s.db(ctx).QueryRow(ctx, `
		with target as (
			select id from sms_outbox where provider = $1 and provider_message_id = $2
		), moved as (
			update sms_outbox
			set status = $3, error_code = $4, updated_at = $5,
				delivered_at = case when $3 = 'delivered' then $5 else delivered_at end
			where id in (select id from target)
				and `+fmt.Sprintf(deliveryRank, "$3::text")+` > `+fmt.Sprintf(deliveryRank, "status")+`
			returning 1
		)
		select exists (select 1 from target)`,
		provider, providerMessageID, status, errorCode, now).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("update sms delivery: %w", err)
	}
	return found, nil
}

// RecentOutbox lists the newest rows first.
func (s *Store) RecentOutbox(ctx context.Context, limit int) ([]outbox.Row, error) {
	rows, err := s.db(ctx).Query(ctx, `select `+outboxColumns+` from sms_outbox order by created_at desc, id limit $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("recent sms outbox rows: %w", err)
	}
	list, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("recent sms outbox rows: %w", err)
	}
	return list, nil
}

// DeleteOldOutbox empties the sealed message of every finished row — nothing
// will send it again, and a delivery report needs only the provider's id — and
// deletes rows created before before (the janitor passes now minus
// outbox.Retention). It reports how many rows it deleted.
func (s *Store) DeleteOldOutbox(ctx context.Context, before time.Time) (int64, error) {
	_, err := s.db(ctx).Exec(ctx, `
		update sms_outbox set sealed = ''::bytea
		where status in ('sent', 'delivered', 'undelivered', 'failed', 'expired') and length(sealed) > 0`)
	if err != nil {
		return 0, fmt.Errorf("wipe finished sms outbox rows: %w", err)
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from sms_outbox where created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("delete old sms outbox rows: %w", err)
	}
	return tag.RowsAffected(), nil
}
