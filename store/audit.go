package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

func (s *Store) Record(ctx context.Context, e account.Event) error {
	var userID any
	if validUUID(e.UserID) {
		userID = e.UserID
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into audit_log (at, event, user_id, subject, ip, user_agent, request_id, details)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.At, e.Type, userID, e.Subject, inet(e.IP), e.UserAgent, e.RequestID, details)
	if err != nil {
		return fmt.Errorf("insert audit event %s: %w", e.Type, err)
	}
	return nil
}

// AuditFilter selects audit entries. Zero fields select everything; Type
// ending in "." matches a family ("mfa." is every MFA event). Before pages
// backwards: entries with an id below it. Subject matches the entry's
// subject ignoring case, e.g. the email typed into a failed login for an
// address that has no account.
type AuditFilter struct {
	UserID  string
	Subject string
	Type    string
	Since   time.Time
	Until   time.Time
	Before  int64
	Limit   int // default 50, at most 500
}

// AuditEntry is one stored event; Details is its JSON.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Type      string
	UserID    string
	Subject   string
	IP        string
	UserAgent string
	RequestID string
	Details   string
}

// AuditEvents lists entries matching f, newest first.
func (s *Store) AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	var userID any
	if f.UserID != "" {
		if !validUUID(f.UserID) {
			return nil, nil
		}
		userID = f.UserID
	}
	typeExact, typePrefix := f.Type, ""
	if strings.HasSuffix(f.Type, ".") {
		typeExact, typePrefix = "", f.Type
	}
	var since, until, before any
	if !f.Since.IsZero() {
		since = f.Since
	}
	if !f.Until.IsZero() {
		until = f.Until
	}
	if f.Before > 0 {
		before = f.Before
	}
	rows, err := s.db(ctx).Query(ctx, `
		select id, at, event, coalesce(user_id::text, ''), subject, coalesce(host(ip), ''), user_agent, request_id, details::text
		from audit_log
		where ($1::uuid is null or user_id = $1)
		  and ($2 = '' or event = $2)
		  and ($3 = '' or starts_with(event, $3))
		  and ($4::timestamptz is null or at >= $4)
		  and ($5::timestamptz is null or at < $5)
		  and ($6::bigint is null or id < $6)
		  and ($8 = '' or lower(subject) = lower($8))
		order by id desc
		limit $7`, userID, typeExact, typePrefix, since, until, before, f.Limit, f.Subject)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Type, &e.UserID, &e.Subject, &e.IP, &e.UserAgent, &e.RequestID, &e.Details)
		return e, err
	})
}
