package settings_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestAuditRetentionSetting(t *testing.T) {
	cases := []struct {
		name    string
		value   string // "" leaves the setting unset
		want    time.Duration
		refused bool
	}{
		{"unset keeps every entry", "", 0, false},
		{"0 keeps every entry", "0", 0, false},
		{"a year", "365", 365 * 24 * time.Hour, false},
		{"the shortest allowed, a week", "7", 7 * 24 * time.Hour, false},
		{"shorter than the dashboard's week is refused", "6", 0, true},
		{"negative is refused", "-1", 0, true},
		{"not a number is refused", "forever", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := accounttest.NewClock(time.Now())
			svc := newService(t, storetest.NewStore(t), clock, masterKey)
			if tc.value != "" {
				err := svc.Set(ctx, map[string]string{settings.KeyAuditRetention: tc.value}, "test", account.Meta{})
				var fields settings.FieldErrors
				if tc.refused != errors.As(err, &fields) {
					t.Fatalf("Set(%q) = %v, refused want %v", tc.value, err, tc.refused)
				}
				if tc.refused && !strings.Contains(fields[settings.KeyAuditRetention], "0 (keep every entry)") {
					t.Errorf("refusal says %q, want it to name the choices", fields[settings.KeyAuditRetention])
				}
				if !tc.refused && err != nil {
					t.Fatal(err)
				}
			}
			snap, err := svc.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.AuditRetention(); got != tc.want {
				t.Errorf("AuditRetention = %s, want %s", got, tc.want)
			}
		})
	}
}
