package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

func rowCells(t *testing.T, body, rowStart string) []string {
	t.Helper()
	i := strings.Index(body, rowStart)
	if i < 0 {
		t.Fatalf("no row %q", rowStart)
	}
	row := body[i:]
	row = row[:strings.Index(row, "</tr>")]
	var out []string
	for _, m := range regexp.MustCompile(`<td class="num">(\d+)</td>`).FindAllStringSubmatch(row, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestDashboardShowsTheSeededFigures(t *testing.T) {
	h := newAdminHarness(t)
	admin := h.adminBrowser(t)
	now := h.clock.Now()
	// Only seeded events older than the admin's own login count as "week".
	for _, e := range []struct {
		typ   string
		ago   time.Duration
		limit string
	}{
		{"login.failed", 3 * 24 * time.Hour, ""},
		{"login.failed", 2 * time.Hour, ""},
		{"login.failed", 9 * 24 * time.Hour, ""},
		{"mfa.challenge_failed", 5 * 24 * time.Hour, ""},
		{"mfa.limit_hit", 30 * time.Minute, "ip"},
		{"mfa.limit_hit", 4 * 24 * time.Hour, "ip"},
		{"mfa.limit_hit", 5 * 24 * time.Hour, "ip_hour"}, // a name this server does not know
	} {
		details := map[string]any{}
		if e.limit != "" {
			details["limit"] = e.limit
		}
		if err := h.st.Record(withContext(), account.Event{At: now.Add(-e.ago), Type: e.typ, Details: details}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		cc     int
		status string
		ago    time.Duration
	}{
		{33, "delivered", time.Hour}, {33, "failed", 2 * 24 * time.Hour}, {33, "undelivered", 3 * time.Hour},
	} {
		at := now.Add(-o.ago)
		if _, err := h.st.Pool().Exec(withContext(), `
			insert into sms_outbox (purpose, country_code, sealed, status, next_attempt_at, created_at, expires_at, updated_at, sent_at)
			values ('challenge', $1, '\x00', $2, $3::timestamptz, $3, $3, $3, case when $2 = 'failed' then null else $3::timestamptz end)`,
			o.cc, o.status, at); err != nil {
			t.Fatal(err)
		}
	}
	r := h.do(admin, "GET", "/admin/", nil)
	r.expect(t, http.StatusOK, "admin-dashboard")
	checks := []struct {
		row  string
		want string
	}{
		{"<th scope=\"row\">Logins succeeded</th>", "1,1,1"}, // the admin's own
		{"<th scope=\"row\">Logins failed</th>", "0,1,2"},
		{"<th scope=\"row\">MFA challenges passed</th>", "1,1,1"},
		{"<th scope=\"row\">MFA challenges failed</th>", "0,0,1"},
		{`<tr data-limit="ip">`, "1,1,2"},
		{`<tr data-limit="ip_hour">`, "0,0,1"},
		{`<tr data-limit="global_enroll">`, "0,0,0"},
		{`<tr data-country="33">`, "2,1,1,2,1,2"},
	}
	for _, c := range checks {
		if got := strings.Join(rowCells(t, r.body, c.row), ","); got != c.want {
			t.Errorf("%s: %s, want %s", c.row, got, c.want)
		}
	}
	for _, want := range []string{"&#43;33 France", "MFA policy: <strong>", "delivered by <strong>plivo</strong>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
