package server

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// adminLogsData is the Logs page: the filters as typed, one page of
// entries and the link to the older ones.
type adminLogsData struct {
	User, Event, From, To string
	Events                []adminEvent
	Older                 template.URL // the next page, "" on the last
	Retention             settingField // the form that sets how long entries are kept
}

const adminLogsPage = 50

// handleAdminLogs shows the audit log, newest first, filtered by user
// (email or id), event type (exact, or a family such as "mfa.") and a time
// range in UTC, paged backwards by entry id.
func (s *Server) handleAdminLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderAdminLogs(w, r, nil, "")
	})
}

// handleAdminLogsRetention saves how long the log keeps entries; the
// janitor deletes what is older within its next pass.
func (s *Server) handleAdminLogsRetention() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		days := r.PostForm.Get(settings.KeyAuditRetention)
		err := s.settings.Set(r.Context(), map[string]string{settings.KeyAuditRetention: days}, actor(mustSession(r)), meta(r))
		var fields settings.FieldErrors
		if errors.As(err, &fields) {
			s.renderAdminLogs(w, r, fields, days)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/logs", "Saved. Entries past the retention go within ten minutes.")
	})
}

// renderAdminLogs shows the page for the request's filters; refused, when
// not nil, is the retention form's error, with typed as its value.
func (s *Server) renderAdminLogs(w http.ResponseWriter, r *http.Request, refused settings.FieldErrors, typed string) {
	q := r.URL.Query()
	d := adminLogsData{User: strings.TrimSpace(q.Get("user")), Event: strings.TrimSpace(q.Get("event")),
		From: q.Get("from"), To: q.Get("to")}
	v := s.newAdminView(r, "logs", "Logs")
	v.Data = &d
	snap, err := s.tenant(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	spec, err := settings.Describe(settings.KeyAuditRetention)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Retention = settingField{Spec: spec, Type: "number", Value: itoaDays(snap.AuditRetention())}
	if refused != nil {
		d.Retention.Value, d.Retention.Error = typed, refused[settings.KeyAuditRetention]
		v.Error = "The retention was not saved: correct the field marked below."
	}
	f, fields, err := s.auditFilter(r, d, q.Get("before"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(fields) > 0 {
		v.Fields = fields
		v.Error = "Correct the filters marked below."
		s.renderAdmin(w, r, http.StatusBadRequest, "admin-logs", v)
		return
	}
	entries, err := s.store.AuditEvents(r.Context(), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Events = adminEvents(entries)
	if len(entries) == f.Limit {
		older := url.Values{"before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		for k, val := range map[string]string{"user": d.User, "event": d.Event, "from": d.From, "to": d.To} {
			if val != "" {
				older.Set(k, val)
			}
		}
		d.Older = template.URL(s.base + "admin/logs?" + older.Encode())
	}
	status := http.StatusOK
	if refused != nil {
		status = http.StatusBadRequest
	}
	s.renderAdmin(w, r, status, "admin-logs", v)
}

// auditFilter reads the Logs page's filters; fields says, per filter, what
// was wrong with it. A user filter naming no account matches the entries
// whose subject is that address: failed logins for an unknown email.
func (s *Server) auditFilter(r *http.Request, d adminLogsData, before string) (store.AuditFilter, map[string]string, error) {
	f := store.AuditFilter{Type: d.Event, Limit: adminLogsPage}
	fields := map[string]string{}
	switch {
	case d.User == "":
	case account.IsUUID(d.User):
		f.UserID = strings.ToLower(d.User)
	case strings.Contains(d.User, "@"):
		u, err := s.accounts.UserByEmail(r.Context(), d.User)
		switch {
		case errors.Is(err, account.ErrNotFound):
			f.Subject = d.User
		case err != nil:
			return f, nil, err
		default:
			f.UserID = u.ID
		}
	default:
		fields["user"] = "Enter an email address or a user id."
	}
	var err error
	if f.Since, err = parseAdminTime(d.From); err != nil {
		fields["from"] = "Enter a date and time such as 2026-03-01T09:30 (UTC)."
	}
	if f.Until, err = parseAdminTime(d.To); err != nil {
		fields["to"] = "Enter a date and time such as 2026-03-01T17:00 (UTC)."
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		fields["to"] = "The end must be after the start."
	}
	if before != "" {
		if f.Before, err = strconv.ParseInt(before, 10, 64); err != nil || f.Before <= 0 {
			fields["before"] = "The page link is malformed; start again from the newest entries."
		}
	}
	return f, fields, nil
}

// parseAdminTime reads a datetime-local value as UTC; "" is no bound.
func parseAdminTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("malformed time")
}
