package settings_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/cache"
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

// With no settings read yet there is no admin's rule to keep: everything
// they could have tightened is shut until they can be read.
func TestSettingsNeverReadFailClosed(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	flaky := &flakyStore{Store: st}
	flaky.down.Store(true)
	svc, err := settings.NewService(flaky, st, masterKey, accounttest.NewClock(time.Now()).Now)
	if err != nil {
		t.Fatal(err)
	}
	if r := svc.Tune(ctx, mfa.DefaultRules()); !r.PhoneOff {
		t.Errorf("unreadable settings let text messages go out")
	}
	if r := svc.TuneSignups(ctx, account.DefaultSignupRules()); !r.Closed {
		t.Errorf("unreadable settings let signups through under the built-in limits")
	}
	if !svc.ChallengeMedium(ctx, false) {
		t.Errorf("unreadable settings stopped challenging medium-confidence logins")
	}
	if _, err := svc.BlockedNetworks(ctx); err == nil {
		t.Errorf("unreadable settings gave an empty block list, no error")
	}
}

// A read that fails longer than the last good one may stand in is a read
// that fails: the rules shut as if none had been read.
func TestSettingsUnreadablePastTheStaleBoundFailClosed(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	flaky := &flakyStore{Store: st}
	clock := accounttest.NewClock(time.Now())
	svc, err := settings.NewService(flaky, st, masterKey, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if r := svc.Tune(ctx, mfa.DefaultRules()); r.PhoneOff {
		t.Fatalf("with the settings readable and unset, Phone Message is off")
	}
	flaky.down.Store(true)
	clock.Advance(settings.CacheTTL + cache.MaxStale + time.Second)
	if r := svc.Tune(ctx, mfa.DefaultRules()); !r.PhoneOff {
		t.Errorf("settings unreadable past the stale bound let text messages go out")
	}
}
