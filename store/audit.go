package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

func (s *Store) Record(ctx context.Context, e account.Event) error {
	var userID any
	if account.IsUUID(e.UserID) {
		userID = e.UserID
	}
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	const sql = `
		insert into audit_log (at, event, user_id, subject, ip, user_agent, request_id, details)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`
	args := []any{e.At, e.Type, userID, cleanText(e.Subject), inet(e.IP), cleanText(e.UserAgent), e.RequestID, details}
	if deferWrite(ctx, sql, args...) {
		return nil
	}
	if _, err := s.db(ctx).Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("insert audit event %s: %w", e.Type, err)
	}
	return nil
}

// cleanText makes text a client typed fit a Postgres text column, which
// refuses NUL and invalid UTF-8, so that an event about a malformed attempt is
// still on record.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
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
	if f.UserID != "" && !account.IsUUID(f.UserID) {
		return nil, nil
	}
	// Only the filters given become conditions, so that every plan, generic
	// or not, can use the (user_id, id) and (event, id) indexes.
	var where []string
	var args []any
	cond := func(sql string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(sql, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.UserID != "" {
		cond("user_id = $?", f.UserID)
	}
	switch {
	case strings.HasSuffix(f.Type, "."):
		cond("starts_with(event, $?)", cleanText(f.Type))
	case f.Type != "":
		cond("event = $?", cleanText(f.Type))
	}
	if !f.Since.IsZero() {
		cond("at >= $?", f.Since)
	}
	if !f.Until.IsZero() {
		cond("at < $?", f.Until)
	}
	if f.Before > 0 {
		cond("id < $?", f.Before)
	}
	if f.Subject != "" {
		cond("lower(subject) = lower($?)", f.Subject)
	}
	sql := `select id, at, event, coalesce(user_id::text, ''), subject, coalesce(host(ip), ''), user_agent, request_id, details::text
		from audit_log`
	if len(where) > 0 {
		sql += " where " + strings.Join(where, " and ")
	}
	args = append(args, f.Limit)
	sql += " order by id desc limit $" + strconv.Itoa(len(args))
	rows, err := s.db(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Type, &e.UserID, &e.Subject, &e.IP, &e.UserAgent, &e.RequestID, &e.Details)
		return e, err
	})
}
