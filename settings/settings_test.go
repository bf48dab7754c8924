package settings_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var masterKey = []byte("0123456789abcdef0123456789abcdef")

func newService(t *testing.T, st *store.Store, c *accounttest.Clock, key []byte) *settings.Service {
	t.Helper()
	svc, err := settings.NewService(st, st, key, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSetRefusesBadValuesNamingTheField(t *testing.T) {
	svc := newService(t, storetest.NewStore(t), accounttest.NewClock(time.Now()), masterKey)
	cases := []struct {
		name, key, value, want string
	}{
		{"unknown policy", settings.KeyPolicy, "sometimes", "must be one of never, adaptive, always"},
		{"sender not in E.164", settings.KeyPlivoSrc, "+1 (415) 55", "E.164"},
		{"sender ID too long", settings.KeyPlivoSrc, "ACMECORPORATION", "E.164"},
		{"webhook URL without scheme", settings.KeyWebhookURL, "sms.example.com/send", "http(s) URL"},
		{"short webhook secret", settings.KeyWebhookSecret, "short", "at least 32"},
		{"unknown country", settings.KeyAllowedRegions, "GB,XX", `"XX" is not a country code`},
		{"remember beyond the cap", settings.KeyRememberDays, "365", "from 0 to 90"},
		{"negative limit", settings.KeyLimitGlobalHour, "-1", "whole number"},
		{"no share for new numbers", settings.KeyLimitEnrollPct, "0", "from 1 to 100"},
		{"more than the whole", settings.KeyLimitEnrollPct, "101", "from 1 to 100"},
		{"country limit without a number", settings.KeyCountryLimits, "GB=lots", "COUNTRY=MAX"},
		{"not a network", settings.KeyBlockedNetworks, "10.0.0.0/33", "CIDR"},
		{"not a setting", "colour", "blue", "is not a setting"},
		{"plivo without credentials", settings.KeyProvider, "plivo", "required when the SMS provider is Plivo"},
		{"voice with plivo", settings.KeyDelivery, "voice", "only by the webhook provider"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.Set(context.Background(), map[string]string{tc.key: tc.value}, "test", account.Meta{})
			var fields settings.FieldErrors
			if !errors.As(err, &fields) {
				t.Fatalf("Set = %v, want FieldErrors", err)
			}
			got := strings.Join(func() []string {
				var all []string
				for _, m := range fields {
					all = append(all, m)
				}
				return all
			}(), " | ")
			if !strings.Contains(got, tc.want) {
				t.Errorf("errors %q, want one containing %q", got, tc.want)
			}
		})
	}
}

func TestSecretsAreSealedAndNeverDisplayed(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	svc := newService(t, st, accounttest.NewClock(time.Now()), masterKey)
	const token = "plivo-token-0123456789abcdef"
	err := svc.Set(ctx, map[string]string{
		settings.KeyProvider: "plivo", settings.KeyPlivoAuthID: "MAXXXXXXXXXXXXXXXXXX",
		settings.KeyPlivoAuthToken: token, settings.KeyPlivoSrc: "+14155550100",
	}, "admin:ann@example.com", account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.Setting(ctx, settings.KeyPlivoAuthToken)
	if err != nil || strings.Contains(raw, token) || raw == "" {
		t.Fatalf("stored token %q (%v), want it sealed", raw, err)
	}
	snap, err := svc.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Display(settings.KeyPlivoAuthToken); got != "(set)" {
		t.Errorf("Display(token) = %q, want (set)", got)
	}
	if got := snap.SMSProvider().PlivoAuthToken; got != token {
		t.Errorf("provider token = %q, want the one set", got)
	}
	// A blank secret in a form keeps the stored one.
	if err := svc.Set(ctx, map[string]string{settings.KeyPlivoAuthToken: "", settings.KeyPlivoSrc: "ACME"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	snap, err = svc.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.SMSProvider().PlivoAuthToken != token || snap.SMSProvider().PlivoSrc != "ACME" {
		t.Errorf("after a blank secret: %+v", snap.SMSProvider())
	}
	events, err := st.AuditEvents(ctx, store.AuditFilter{Type: settings.EventChanged})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(e.Details, token) {
			t.Errorf("audit entry %s holds the secret", e.Details)
		}
	}
	if len(events) != 2 {
		t.Errorf("%d settings.changed events, want 2", len(events))
	}
	// Without the master key the secret reads as unset and cannot be set.
	keyless := newService(t, st, accounttest.NewClock(time.Now()), nil)
	snap, err = keyless.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.IsSet(settings.KeyPlivoAuthToken) {
		t.Error("a service without the master key read the secret")
	}
	if err := keyless.Set(ctx, map[string]string{settings.KeyPlivoAuthToken: token}, "test", account.Meta{}); err == nil {
		t.Error("a service without the master key set a secret")
	}
}

func TestAChangeReachesAnotherReplicaWithinTheCache(t *testing.T) {
	ctx := context.Background()
	st := storetest.NewStore(t)
	c := accounttest.NewClock(time.Now())
	one, two := newService(t, st, c, masterKey), newService(t, st, c, masterKey)
	if snap, err := two.Current(ctx); err != nil || snap.Policy() != mfa.DefaultPolicy {
		t.Fatalf("policy before = %s", snap.Policy())
	}
	if err := one.Set(ctx, map[string]string{settings.KeyPolicy: "Always"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if snap, err := one.Current(ctx); err != nil || snap.Policy() != mfa.PolicyAlways {
		t.Errorf("the replica that changed it reads %s", snap.Policy())
	}
	c.Advance(settings.CacheTTL)
	if snap, err := two.Current(ctx); err != nil || snap.Policy() != mfa.PolicyAlways {
		t.Errorf("another replica reads %s after the cache TTL", snap.Policy())
	}
	if err := one.Set(ctx, map[string]string{settings.KeyPolicy: settings.Unset}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	if snap, err := one.Current(ctx); err != nil || snap.Policy() != mfa.DefaultPolicy || snap.IsSet(settings.KeyPolicy) {
		t.Errorf("after unset: %s", snap.Policy())
	}
}

func TestRulesLayLimitsOverTheDefaults(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, storetest.NewStore(t), accounttest.NewClock(time.Now()), masterKey)
	err := svc.Set(ctx, map[string]string{settings.KeyLimitGlobalHour: "50", settings.KeyLimitPhoneDay: "0",
		settings.KeyCountryLimits: "gb=20", settings.KeyRememberDays: "7", settings.KeyLimitEnrollPct: "20"}, "test", account.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	r := svc.Tune(ctx, mfa.DefaultRules())
	if len(r.GlobalLimits) != 1 || r.GlobalLimits[0] != (limits.Limit{Max: 50, Window: time.Hour}) {
		t.Errorf("global limits %+v", r.GlobalLimits)
	}
	if r.EnrollShare != 20 {
		t.Errorf("enrollment share %d%%, want 20%%", r.EnrollShare)
	}
	if want := []limits.Limit{{Max: 3, Window: 10 * time.Minute}, {Max: 0, Window: 24 * time.Hour}}; len(r.PhoneLimits) != 2 || r.PhoneLimits[0] != want[0] || r.PhoneLimits[1] != want[1] {
		t.Errorf("phone limits %+v, want %+v", r.PhoneLimits, want)
	}
	if r.CountryLimits[44] != (limits.Limit{Max: 20, Window: time.Hour}) {
		t.Errorf("country limits %+v", r.CountryLimits)
	}
	if r.TrustedBrowserFor != 7*24*time.Hour {
		t.Errorf("remember for %v", r.TrustedBrowserFor)
	}
}
