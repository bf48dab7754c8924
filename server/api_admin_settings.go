package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// settingJSON is one setting as the admin API shows it. A secret's value is
// never returned: Set says whether one is stored.
type settingJSON struct {
	Key     string  `json:"key"`
	Value   *string `json:"value"` // null for secrets and unset values
	Set     bool    `json:"set"`
	Secret  bool    `json:"secret"`
	Group   string  `json:"group"`
	Label   string  `json:"label"`
	Help    string  `json:"help"`
	Default string  `json:"default,omitempty"`
}

func (s *Server) settingsJSON(r *http.Request) ([]settingJSON, error) {
	snap, err := s.tenant(r.Context())
	if err != nil {
		return nil, err
	}
	var out []settingJSON
	for _, spec := range settings.All() {
		j := settingJSON{Key: spec.Key, Set: snap.IsSet(spec.Key), Secret: spec.Secret, Group: spec.Group,
			Label: spec.Label, Help: spec.Help, Default: spec.Default}
		if j.Set && !spec.Secret {
			v := snap.Display(spec.Key)
			j.Value = &v
		}
		out = append(out, j)
	}
	return out, nil
}

// handleAPIGetSettings: GET api/admin/settings.
func (s *Server) handleAPIGetSettings() http.Handler {
	return s.requireAdminScope("read:settings", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		list, err := s.settingsJSON(r)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"settings": list})
	})
}

// handleAPIPatchSettings: PATCH api/admin/settings with {"key": "value", …};
// null returns a setting to its default. All or nothing: a bad value
// refuses the whole change with an error per key.
func (s *Server) handleAPIPatchSettings() http.Handler {
	return s.requireAdminScope("update:settings", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		var body map[string]*string
		if !decodeBody(w, r, &body) {
			return
		}
		if len(body) == 0 {
			apiError(w, http.StatusBadRequest, "invalid_body", "Name at least one setting to change.", nil)
			return
		}
		changes := make(map[string]string, len(body))
		for k, v := range body {
			if v == nil {
				changes[k] = settings.Unset
				continue
			}
			if *v == "" {
				if spec, err := settings.Describe(k); err == nil && spec.Secret {
					// The console's blank-keeps-the-secret rule does not fit an API:
					// an empty secret is a mistake, not "keep".
					apiError(w, http.StatusBadRequest, "invalid_setting", "Invalid settings.", map[string]string{k: "must not be empty; send null to unset it"})
					return
				}
			}
			changes[k] = *v
		}
		err := s.settings.Set(r.Context(), changes, caller.actor(), meta(r))
		var fields settings.FieldErrors
		if errors.As(err, &fields) {
			apiError(w, http.StatusBadRequest, "invalid_setting", "Invalid settings: nothing was changed.", fields)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		list, err := s.settingsJSON(r)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"settings": list})
	})
}

// logJSON is one audit log entry.
type logJSON struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Type      string          `json:"type"`
	UserID    string          `json:"user_id,omitempty"`
	Subject   string          `json:"subject,omitempty"`
	IP        string          `json:"ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Details   json.RawMessage `json:"details"`
}

// handleAPILogs: GET api/admin/logs?user_id=&type=&from=&to=&before=&limit=,
// newest first; next_before pages backwards.
func (s *Server) handleAPILogs() http.Handler {
	return s.requireAdminScope("read:logs", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		q := r.URL.Query()
		f := store.AuditFilter{UserID: q.Get("user_id"), Type: q.Get("type")}
		fields := map[string]string{}
		for name, dst := range map[string]*time.Time{"from": &f.Since, "to": &f.Until} {
			if v := q.Get(name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					fields[name] = "must be a time in RFC 3339 form, e.g. 2026-11-27T18:00:00Z"
				}
				*dst = t
			}
		}
		for name, dst := range map[string]*int64{"before": &f.Before} {
			if v := q.Get(name); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					fields[name] = "must be a positive entry id"
				}
				*dst = n
			}
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				fields["limit"] = "must be from 1 to 500"
			}
			f.Limit = n
		}
		if f.UserID != "" && !account.IsUUID(f.UserID) {
			fields["user_id"] = "must be a user id (a UUID)"
		}
		if len(fields) > 0 {
			apiError(w, http.StatusBadRequest, "invalid_query", "Invalid query parameters.", fields)
			return
		}
		entries, err := s.store.AuditEvents(r.Context(), f)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]logJSON, len(entries))
		for i, e := range entries {
			out[i] = logJSON{ID: e.ID, At: e.At, Type: e.Type, UserID: e.UserID, Subject: e.Subject, IP: e.IP,
				UserAgent: e.UserAgent, RequestID: e.RequestID, Details: json.RawMessage(e.Details)}
		}
		resp := map[string]any{"logs": out}
		if limit := cmp.Or(f.Limit, 50); len(out) == limit {
			resp["next_before"] = out[len(out)-1].ID
		}
		writeJSON(w, http.StatusOK, resp)
	})
}
