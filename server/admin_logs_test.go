package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store"
)

var (
	eventCellRE = regexp.MustCompile(`<td class="code">([a-z_.]+)</td>`)
	olderRE     = regexp.MustCompile(`href="([^"]+)">Older</a>`)
)

func eventTypes(body string) []string {
	var out []string
	for _, m := range eventCellRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestAdminFiltersAndPagesTheLogs(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	ann, err := h.accounts.CreateUser(withContext(), "ann@example.com", "", goodPassword, false, account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 60 {
		e := account.Event{At: base.Add(time.Duration(i) * time.Minute), Type: "test.tick", UserID: ann.ID}
		if i%2 == 1 {
			e.Type = "test.tock"
		}
		if err := h.st.Record(withContext(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.st.Record(withContext(), account.Event{At: base, Type: "login.failed", Subject: "nobody@example.com"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query url.Values
		count int
		only  string
	}{
		{"user by email, exact event", url.Values{"user": {"ANN@example.com"}, "event": {"test.tick"}}, 30, "test.tick"},
		{"user by id, family", url.Values{"user": {ann.ID}, "event": {"test."}}, 50, ""},
		{"time range", url.Values{"event": {"test."}, "from": {"2026-03-01T12:10"}, "to": {"2026-03-01T12:20"}}, 10, ""},
		{"email without an account", url.Values{"user": {"nobody@example.com"}}, 1, "login.failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(admin, "GET", "/admin/logs?"+tt.query.Encode(), nil)
			r.expect(t, http.StatusOK, "admin-logs")
			got := eventTypes(r.body)
			if len(got) != tt.count {
				t.Fatalf("%d entries, want %d", len(got), tt.count)
			}
			for _, g := range got {
				if tt.only != "" && g != tt.only {
					t.Fatalf("entry %s among %s", g, tt.only)
				}
			}
		})
	}

	t.Run("older page", func(t *testing.T) {
		r := h.do(admin, "GET", "/admin/logs?event=test.&user="+ann.ID, nil)
		m := olderRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatal("no Older link on a full page")
		}
		older := h.do(admin, "GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil)
		older.expect(t, http.StatusOK, "admin-logs")
		if n := len(eventTypes(older.body)); n != 10 {
			t.Fatalf("older page has %d entries, want 10", n)
		}
		if olderRE.MatchString(older.body) {
			t.Error("the last page links to an older one")
		}
		if !strings.Contains(older.body, `href="/admin/users/`+ann.ID+`"`) {
			t.Error("entries do not link to the user")
		}
	})

	for name, q := range map[string]string{
		"malformed from":   "from=yesterday",
		"malformed to":     "to=2026-13-45T99:00",
		"end before start": "from=2026-03-02T00:00&to=2026-03-01T00:00",
		"user neither":     "user=ann",
		"malformed before": "before=abc",
	} {
		t.Run(name, func(t *testing.T) {
			r := h.do(admin, "GET", "/admin/logs?"+q, nil)
			r.expect(t, http.StatusBadRequest, "admin-logs")
			if !strings.Contains(r.body, `class="field-error"`) {
				t.Error("no words for the refused filter")
			}
		})
	}
}

func TestAdminSetsTheAuditRetentionOnTheLogsPage(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	retention := func() time.Duration {
		t.Helper()
		snap, err := h.settings.Current(withContext())
		if err != nil {
			t.Fatal(err)
		}
		return snap.AuditRetention()
	}
	page := h.do(admin, "GET", "/admin/logs", nil)
	page.expect(t, http.StatusOK, "admin-logs")
	if !strings.Contains(page.body, `name="audit_retention_days" type="text" value="0"`) {
		t.Fatalf("the retention field does not show the default, keep everything")
	}

	refused := h.adminPost(t, admin, "/admin/logs", "/admin/logs", url.Values{"audit_retention_days": {"3"}})
	refused.expect(t, http.StatusBadRequest, "admin-logs")
	if !strings.Contains(refused.body, "or a whole number of days from 7") || !strings.Contains(refused.body, `value="3"`) {
		t.Errorf("a too-short retention is not explained beside the value typed: %s", refused.alert())
	}
	if got := retention(); got != 0 {
		t.Fatalf("a refused retention was saved: %s", got)
	}

	h.adminPost(t, admin, "/admin/logs", "/admin/logs", url.Values{"audit_retention_days": {"400"}}).expectRedirect(t, "/admin/logs")
	if got := retention(); got != 400*24*time.Hour {
		t.Fatalf("retention = %s after saving 400 days", got)
	}
	if page := h.do(admin, "GET", "/admin/logs", nil); !strings.Contains(page.body, `value="400"`) {
		t.Errorf("the page does not show the saved retention")
	}
	changed, err := h.st.AuditEvents(withContext(), store.AuditFilter{Type: "settings.changed"})
	if err != nil || len(changed) != 1 || !strings.Contains(changed[0].Details, `"audit_retention_days": "400"`) {
		t.Errorf("the change is not in the audit log: %+v, %v", changed, err)
	}
}
