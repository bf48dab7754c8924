package mfa_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa"
)

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

func (f *fixture) trust(t *testing.T, userID string) (string, mfa.TrustedBrowser) {
	t.Helper()
	token, b, err := f.svc.TrustBrowser(ctx, userID, home, firefox)
	if err != nil {
		t.Fatalf("trust browser: %v", err)
	}
	return token, b
}

func (f *fixture) isTrusted(t *testing.T, userID, token string) bool {
	t.Helper()
	ok, err := f.svc.IsTrusted(ctx, userID, token)
	if err != nil {
		t.Fatalf("is trusted: %v", err)
	}
	return ok
}

func TestTrustedBrowserSkipsOnlyForItsUserUntilExpiry(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	token, b := f.trust(t, f.user.ID)
	if want := t0.Add(30 * 24 * time.Hour); !b.ExpiresAt.Equal(want) || b.UserID != f.user.ID || b.CreatedIP != home || b.UserAgent != firefox {
		t.Fatalf("trusted browser = %+v, want expiry %v, the user, home and Firefox", b, want)
	}
	if !f.isTrusted(t, f.user.ID, token) {
		t.Fatal("the trusted browser is not trusted")
	}
	other := f.newUser(t)
	if f.isTrusted(t, other.ID, token) {
		t.Fatal("a browser trusted by one user is trusted for another")
	}
	for _, garbage := range []string{"", "not base64!", base64.RawURLEncoding.EncodeToString(make([]byte, 32)), token[:20], token + "A"} {
		if f.isTrusted(t, f.user.ID, garbage) {
			t.Fatalf("token %q is trusted", garbage)
		}
	}
	if n := f.auditCount(t, mfa.EventBrowserTrusted); n != 1 {
		t.Fatalf("trust audited %d times, want 1", n)
	}

	f.clock.Advance(30*24*time.Hour - time.Second)
	if !f.isTrusted(t, f.user.ID, token) {
		t.Fatal("not trusted a second before expiry")
	}
	f.clock.Advance(time.Second)
	if f.isTrusted(t, f.user.ID, token) {
		t.Fatal("trusted at expiry")
	}
}

func TestTrustedBrowserExpiryIsCappedAtTheMax(t *testing.T) {
	rules := mfa.DefaultRules()
	rules.TrustedBrowserFor = 365 * 24 * time.Hour
	f := newFixture(t, rules)
	_, b := f.trust(t, f.user.ID)
	if want := t0.Add(rules.TrustedBrowserMax); !b.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %v, want the 90-day cap %v", b.ExpiresAt, want)
	}

	rules.TrustedBrowserFor = 0
	off := newService(t, f.st, f.clock, f.outbox, rules)
	if _, _, err := off.TrustBrowser(ctx, f.user.ID, home, firefox); !errors.Is(err, mfa.ErrInvalidRequest) {
		t.Fatalf("trust with remembering off: %v, want ErrInvalidRequest", err)
	}
}

func TestTrustedBrowserUseIsNotedAtMostOnceAMinute(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	token, _ := f.trust(t, f.user.ID)
	lastUsed := func() time.Time {
		t.Helper()
		bs, err := f.svc.TrustedBrowsers(ctx, f.user.ID)
		if err != nil || len(bs) != 1 {
			t.Fatalf("list = %v, %v; want one browser", bs, err)
		}
		return bs[0].LastUsedAt
	}
	f.clock.Advance(30 * time.Second)
	f.isTrusted(t, f.user.ID, token)
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("last used %v after 30s, want still %v", got, t0)
	}
	f.clock.Advance(time.Minute)
	f.isTrusted(t, f.user.ID, token)
	if got, want := lastUsed(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("last used %v, want %v", got, want)
	}
}

func TestTrustedBrowserTokenIsStoredOnlyAsItsHash(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	token, b := f.trust(t, f.user.ID)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q decodes to %d bytes, %v; want 32", token, len(raw), err)
	}
	var stored []byte
	var row string
	err = f.st.Pool().QueryRow(ctx, `select token_hash, t::text from mfa_trusted_browsers t where id = $1`, b.ID).Scan(&stored, &row)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(raw); string(stored) != string(want[:]) {
		t.Fatalf("stored %x, want the token's SHA-256 %x", stored, want)
	}
	if strings.Contains(row, token) || strings.Contains(row, hex.EncodeToString(raw)) {
		t.Fatalf("row %s holds the token", row)
	}
}

func TestTrustedBrowsersListNewestFirstWithoutExpired(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	_, old := f.trust(t, f.user.ID)
	f.clock.Advance(20 * 24 * time.Hour)
	_, mid := f.trust(t, f.user.ID)
	f.clock.Advance(time.Hour)
	_, newest := f.trust(t, f.user.ID)
	f.trust(t, f.newUser(t).ID)

	ids := func() []string {
		t.Helper()
		bs, err := f.svc.TrustedBrowsers(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
		return ids
	}
	if got, want := ids(), []string{newest.ID, mid.ID, old.ID}; !slices.Equal(got, want) {
		t.Fatalf("list = %v, want newest first %v", got, want)
	}
	f.clock.Advance(10 * 24 * time.Hour) // the first has expired
	if got, want := ids(), []string{newest.ID, mid.ID}; !slices.Equal(got, want) {
		t.Fatalf("list = %v, want %v without the expired one", got, want)
	}
	n, err := f.st.DeleteExpiredTrustedBrowsers(ctx, f.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("delete expired = %d, %v; want 1", n, err)
	}
}

func TestForgetBrowserEndsItsTrust(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	token, b := f.trust(t, f.user.ID)
	kept, _ := f.trust(t, f.user.ID)
	other := f.newUser(t)
	if err := f.svc.ForgetBrowser(ctx, other.ID, b.ID); !errors.Is(err, mfa.ErrNotTrusted) {
		t.Fatalf("another user forgets the browser: %v, want ErrNotTrusted", err)
	}
	if err := f.svc.ForgetBrowser(ctx, f.user.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if f.isTrusted(t, f.user.ID, token) {
		t.Fatal("a forgotten browser is trusted")
	}
	if !f.isTrusted(t, f.user.ID, kept) {
		t.Fatal("forgetting one browser forgot another")
	}
	for _, id := range []string{b.ID, "not-a-uuid"} {
		if err := f.svc.ForgetBrowser(ctx, f.user.ID, id); !errors.Is(err, mfa.ErrNotTrusted) {
			t.Fatalf("forget %q: %v, want ErrNotTrusted", id, err)
		}
	}
	var subject string
	if err := f.st.Pool().QueryRow(ctx, `select subject from audit_log where event = $1`, mfa.EventBrowserForgotten).Scan(&subject); err != nil {
		t.Fatal(err)
	}
	if n := f.auditCount(t, mfa.EventBrowserForgotten); n != 1 || subject != b.ID {
		t.Fatalf("forget audited %d times with subject %q, want once with %s", n, subject, b.ID)
	}
}

func TestForgetAllBrowsersEndsTheUsersTrust(t *testing.T) {
	f := newFixture(t, mfa.DefaultRules())
	a, _ := f.trust(t, f.user.ID)
	b, _ := f.trust(t, f.user.ID)
	other := f.newUser(t)
	c, _ := f.trust(t, other.ID)

	n, err := f.svc.ForgetAllBrowsers(ctx, f.user.ID, "phone_changed")
	if err != nil || n != 2 {
		t.Fatalf("forget all = %d, %v; want 2", n, err)
	}
	if f.isTrusted(t, f.user.ID, a) || f.isTrusted(t, f.user.ID, b) {
		t.Fatal("a browser is trusted after forgetting all")
	}
	if !f.isTrusted(t, other.ID, c) {
		t.Fatal("another user's browser was forgotten")
	}
	var reason string
	var count int
	if err := f.st.Pool().QueryRow(ctx, `select details->>'reason', (details->>'count')::int from audit_log where event = $1`,
		mfa.EventBrowsersForgotten).Scan(&reason, &count); err != nil {
		t.Fatal(err)
	}
	if f.auditCount(t, mfa.EventBrowsersForgotten) != 1 || reason != "phone_changed" || count != 2 {
		t.Fatalf("audited %d times with reason %q count %d; want once, phone_changed, 2",
			f.auditCount(t, mfa.EventBrowsersForgotten), reason, count)
	}
	if n, err := f.svc.ForgetAllBrowsers(ctx, f.user.ID, "admin"); err != nil || n != 0 {
		t.Fatalf("forget all again = %d, %v; want 0", n, err)
	}
}
