package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Counts is one figure over the dashboard's windows: the last hour shows what
// is happening now (an attack under way), the day and the week what is usual.
type Counts struct{ Hour, Day, Week int64 }

func (c Counts) plus(d Counts) Counts { return Counts{c.Hour + d.Hour, c.Day + d.Day, c.Week + d.Week} }

// CountrySMS is the SMS outbox's traffic to one calling code. Sent counts
// messages handed to a provider; Failed those the provider refused or could
// not deliver, and those that expired before they could go.
type CountrySMS struct {
	CountryCode             int
	Sent, Delivered, Failed Counts
}

// Activity is the admin dashboard's figures for the hour, the day and the
// week up to a moment.
type Activity struct {
	Events map[string]Counts // audit event type → count
	Limits map[string]Counts // mfa.limit_hit by details.limit
	// Passkeys counts logins that passed a passkey: as the second factor
	// (mfa.passkey_passed) or without a password (a login.succeeded whose
	// details say passkey).
	Passkeys Counts
	SMS      []CountrySMS // by calling code, busiest first
}

// ActivityEvents are the audit events the dashboard counts.
var ActivityEvents = []string{
	"login.succeeded", "login.failed", "mfa.challenge_passed", "mfa.challenge_failed", "mfa.limit_hit",
	"signup.limit_hit", "mfa.passkey_passed",
}

// Activity counts the week before now, and the day and the hour within it,
// in two grouped queries: the audit log's (event, at) index and the outbox's
// created_at index bound the rows read to the week's. The audit query also
// splits limit hits by limit and passwordless logins from the others, so
// that those figures cost no query of their own.
func (s *Store) Activity(ctx context.Context, now time.Time) (Activity, error) {
	week, day, hour := now.Add(-7*24*time.Hour), now.Add(-24*time.Hour), now.Add(-time.Hour)
	a := Activity{Events: map[string]Counts{}, Limits: map[string]Counts{}}
	rows, err := s.db(ctx).Query(ctx, `
		select event,
			case when event = 'mfa.limit_hit' then coalesce(details->>'limit', '')
				when event = 'login.succeeded' and details @> '{"passkey": true}' then 'passkey'
				else '' end,
			count(*) filter (where at >= $5), count(*) filter (where at >= $2), count(*)
		from audit_log
		where event = any($4) and at >= $1 and at <= $3
		group by 1, 2`, week, day, now, ActivityEvents, hour)
	if err != nil {
		return a, fmt.Errorf("count audit events: %w", err)
	}
	var event, kind string
	var c Counts
	_, err = pgx.ForEachRow(rows, []any{&event, &kind, &c.Hour, &c.Day, &c.Week}, func() error {
		a.Events[event] = a.Events[event].plus(c)
		switch {
		case event == "mfa.limit_hit":
			a.Limits[kind] = c
		case event == "mfa.passkey_passed", event == "login.succeeded" && kind == "passkey":
			a.Passkeys = a.Passkeys.plus(c)
		}
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("count audit events: %w", err)
	}
	rows, err = s.db(ctx).Query(ctx, `
		select country_code,
			count(*) filter (where sent_at is not null and created_at >= $4),
			count(*) filter (where sent_at is not null and created_at >= $2),
			count(*) filter (where sent_at is not null),
			count(*) filter (where status = 'delivered' and created_at >= $4),
			count(*) filter (where status = 'delivered' and created_at >= $2),
			count(*) filter (where status = 'delivered'),
			count(*) filter (where status in ('failed', 'undelivered', 'expired') and created_at >= $4),
			count(*) filter (where status in ('failed', 'undelivered', 'expired') and created_at >= $2),
			count(*) filter (where status in ('failed', 'undelivered', 'expired'))
		from sms_outbox
		where created_at >= $1 and created_at <= $3
		group by country_code
		order by count(*) desc, country_code`, week, day, now, hour)
	if err != nil {
		return a, fmt.Errorf("count sms outbox: %w", err)
	}
	a.SMS, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CountrySMS, error) {
		var c CountrySMS
		err := r.Scan(&c.CountryCode, &c.Sent.Hour, &c.Sent.Day, &c.Sent.Week, &c.Delivered.Hour, &c.Delivered.Day,
			&c.Delivered.Week, &c.Failed.Hour, &c.Failed.Day, &c.Failed.Week)
		return c, err
	})
	if err != nil {
		return a, fmt.Errorf("count sms outbox: %w", err)
	}
	return a, nil
}
