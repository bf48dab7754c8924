package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestCleanupPassAppliesTheAdminsAuditRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	cases := []struct {
		name      string
		retention string // "" leaves the setting unset
		kept      []string
	}{
		{"unset: the whole trail stays", "", []string{"test.recent", "test.month_old", "test.year_old"}},
		{"30 days: the older entries go and the pass says so", "30", []string{"audit.pruned", "test.recent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := storetest.NewStore(t)
			tenant, err := settings.NewService(st, st, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.retention != "" {
				if err := st.SetSetting(ctx, settings.KeyAuditRetention, tc.retention, "test"); err != nil {
					t.Fatal(err)
				}
			}
			for _, e := range []struct {
				typ string
				age time.Duration
			}{{"test.year_old", 365 * 24 * time.Hour}, {"test.month_old", 31 * 24 * time.Hour}, {"test.recent", time.Hour}} {
				if err := st.Record(ctx, account.Event{At: now.Add(-e.age), Type: e.typ}); err != nil {
					t.Fatal(err)
				}
			}
			sweepOnce(ctx, st, tenant, slog.New(slog.DiscardHandler), now)

			left, err := st.AuditEvents(ctx, store.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range left {
				types = append(types, e.Type)
				if e.Type == eventAuditPruned && !strings.Contains(e.Details, `"rows": 2`) {
					t.Errorf("audit.pruned details = %s, want the 2 rows deleted", e.Details)
				}
			}
			if got, want := strings.Join(types, ","), strings.Join(tc.kept, ","); got != want {
				t.Errorf("entries left, newest first: %s; want %s", got, want)
			}
		})
	}
}
