package store_test

import (
	"bytes"
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func deviceHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestLoginHistoryRoundTrips(t *testing.T) {
	st := storetest.NewStore(t)
	ann, bob := newUser(t, st, "ann@example.com"), newUser(t, st, "bob@example.com")

	if _, ok, err := st.LastLogin(ctxB, ann.ID); ok || err != nil {
		t.Fatalf("last login before any = %v, %v; want none", ok, err)
	}
	logins := []risk.Login{
		{UserID: ann.ID, At: t0, IP: ipA, Country: "GB", DeviceHash: deviceHash("a")},
		{UserID: ann.ID, At: t0.Add(time.Hour), IP: ipB, Country: "US", DeviceHash: deviceHash("b")},
		{UserID: ann.ID, At: t0.Add(30 * time.Minute)}, // unknown address and country, no device cookie
		{UserID: bob.ID, At: t0.Add(2 * time.Hour), IP: ipA, Country: "FR", DeviceHash: deviceHash("c")},
	}
	for _, l := range logins {
		if err := st.AddLogin(ctxB, l); err != nil {
			t.Fatal(err)
		}
	}

	last, ok, err := st.LastLogin(ctxB, ann.ID)
	if err != nil || !ok {
		t.Fatalf("last login = %v, %v", ok, err)
	}
	want := logins[1]
	if last.UserID != want.UserID || !last.At.Equal(want.At) || last.IP != want.IP || last.Country != want.Country || !bytes.Equal(last.DeviceHash, want.DeviceHash) {
		t.Errorf("last login = %+v, want %+v", last, want)
	}

	for _, tc := range []struct {
		user, device string
		hash         []byte
		want         bool
	}{
		{ann.ID, "a", deviceHash("a"), true},
		{ann.ID, "b", deviceHash("b"), true},
		{ann.ID, "c (bob's)", deviceHash("c"), false},
		{ann.ID, "none", nil, false},
		{"not-a-uuid", "a", deviceHash("a"), false},
	} {
		if got, err := st.SeenDevice(ctxB, tc.user, tc.hash); got != tc.want || err != nil {
			t.Errorf("seen device %s = %v, %v; want %v", tc.device, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		user, country string
		want          bool
	}{
		{ann.ID, "GB", true}, {ann.ID, "US", true}, {ann.ID, "FR", false}, {ann.ID, "", false}, {"not-a-uuid", "GB", false},
	} {
		if got, err := st.SeenCountry(ctxB, tc.user, tc.country); got != tc.want || err != nil {
			t.Errorf("seen country %q = %v, %v; want %v", tc.country, got, err, tc.want)
		}
	}
	if _, ok, err := st.LastLogin(ctxB, "not-a-uuid"); ok || err != nil {
		t.Errorf("last login of a malformed id = %v, %v; want none", ok, err)
	}
}

func TestLastLoginWithoutAddress(t *testing.T) {
	st := storetest.NewStore(t)
	ann := newUser(t, st, "ann@example.com")
	if err := st.AddLogin(ctxB, risk.Login{UserID: ann.ID, At: t0}); err != nil {
		t.Fatal(err)
	}
	last, ok, err := st.LastLogin(ctxB, ann.ID)
	if err != nil || !ok || last.IP.IsValid() || last.Country != "" || last.DeviceHash != nil {
		t.Fatalf("last login = %+v, %v, %v; want one with no address, country or device", last, ok, err)
	}
}

func TestLoginHistoryGoesWithItsUser(t *testing.T) {
	st := storetest.NewStore(t)
	ann := newUser(t, st, "ann@example.com")
	if err := st.AddLogin(ctxB, risk.Login{UserID: ann.ID, At: t0, IP: ipA, Country: "GB"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctxB, `delete from users where id = $1`, ann.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool().QueryRow(ctxB, `select count(*) from login_history`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d logins left after their user was deleted", n)
	}
}

func TestDeleteOldLoginHistory(t *testing.T) {
	st := storetest.NewStore(t)
	ann := newUser(t, st, "ann@example.com")
	for _, at := range []time.Time{t0.Add(-100 * 24 * time.Hour), t0.Add(-91 * 24 * time.Hour), t0.Add(-time.Hour)} {
		if err := st.AddLogin(ctxB, risk.Login{UserID: ann.ID, At: at, IP: ipA}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteOldLoginHistory(ctxB, t0.Add(-90*24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	last, ok, err := st.LastLogin(ctxB, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !last.At.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("kept %+v, %v; want the recent login", last, ok)
	}
}

func TestIPFailuresCountsAcrossAccountsInTheWindow(t *testing.T) {
	st := storetest.NewStore(t)
	other := netip.MustParseAddr("198.51.100.7")
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	if err := st.RecordFailure(ctxB, "ann@example.com", ipA, at(-30), 10, t0); err != nil {
		t.Fatal(err)
	} // outside the day
	for i := range 3 {
		if err := st.RecordFailure(ctxB, "ann@example.com", ipA, at(-i), 10, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordFailure(ctxB, "bob@example.com", ipA, at(-5), 10, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordFailure(ctxB, "ann@example.com", other, at(0), 10, t0); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		ip   netip.Addr
		want int
	}{{ipA, 4}, {other, 1}, {ipB, 0}, {netip.Addr{}, 0}} {
		got, err := st.IPFailures(ctxB, tc.ip, t0.Add(-24*time.Hour))
		if err != nil || got != tc.want {
			t.Errorf("failures from %v = %d, %v; want %d", tc.ip, got, err, tc.want)
		}
	}
}

func TestMalformedLoginIsRefused(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.AddLogin(ctxB, risk.Login{UserID: "not-a-uuid", At: t0}); err == nil {
		t.Error("added a login of a malformed user id")
	}
	ann := newUser(t, st, "ann@example.com")
	if err := st.AddLogin(ctxB, risk.Login{UserID: ann.ID, At: t0, DeviceHash: []byte("short")}); err == nil {
		t.Error("added a device hash that is not a SHA-256")
	}
}
