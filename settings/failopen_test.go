package settings_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// flakyStore is the settings table with a switch that makes reads fail, as a
// statement timeout, a dropped connection or a cancelled load does.
type flakyStore struct {
	settings.Store
	down atomic.Bool
}

func (f *flakyStore) AllSettings(ctx context.Context) (map[string]string, error) {
	if f.down.Load() {
		return nil, errors.New("database down")
	}
	return f.Store.AllSettings(ctx)
}

// An admin who turned Phone Message off and lowered the SMS budget has
// decided that no text (or fewer texts) may go out. A settings read that
// fails must not bring back the built-in defaults, which allow more: the
// rules in force stay the admin's (or refuse), never looser.
func TestSettingsThatCannotBeReadDoNotFallBackToLooserDefaults(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	flaky := &flakyStore{Store: st}
	clock := accounttest.NewClock(time.Now())
	svc, err := settings.NewService(flaky, st, masterKey, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Set(ctx, map[string]string{settings.KeyPhoneEnabled: "false", settings.KeyLimitGlobalHour: "50",
		settings.KeyChallengeMedium: "true"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	base := mfa.DefaultRules()
	if r := svc.Tune(ctx, base); !r.PhoneOff || r.GlobalLimits[0].Max != 50 {
		t.Fatalf("with the settings readable: phone off %v, global %+v", r.PhoneOff, r.GlobalLimits)
	}

	clock.Advance(2 * settings.CacheTTL)
	flaky.down.Store(true)
	r := svc.Tune(ctx, base)
	if !r.PhoneOff {
		t.Errorf("a failed settings read turned Phone Message back on")
	}
	for _, l := range r.GlobalLimits {
		if l.Window == time.Hour && (l.Max == 0 || l.Max > 50) {
			t.Errorf("a failed settings read raised the global SMS budget from 50 to %d an hour", l.Max)
		}
	}
	if !svc.ChallengeMedium(ctx, false) {
		t.Errorf("a failed settings read stopped challenging medium-confidence logins")
	}
}
