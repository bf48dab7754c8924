package risk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// The engine test runs against Postgres; the signal tests use fakes.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctx     = context.Background()
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	london  = netip.MustParseAddr("81.2.69.160")
	newYork = netip.MustParseAddr("216.160.83.56")
	deviceA = hash("device-a")
	deviceB = hash("device-b")
	errDown = errors.New("database down")

	places = fakeLocator{
		london:                           {City: "London", Country: "GB", Lat: 51.5, Lon: -0.13},
		newYork:                          {City: "New York", Country: "US", Lat: 40.7, Lon: -74.0},
		netip.MustParseAddr("81.2.69.1"): {City: "Croydon", Country: "GB", Lat: 51.37, Lon: -0.1},
		netip.MustParseAddr("2.2.2.2"):   {City: "Paris", Country: "FR", Lat: 48.86, Lon: 2.35},
	}
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// fakeHistory is a user's login history in memory.
type fakeHistory struct {
	logins []risk.Login
	err    error
}

func (h *fakeHistory) LastLogin(_ context.Context, userID string) (risk.Login, bool, error) {
	var last risk.Login
	var ok bool
	for _, l := range h.logins {
		if l.UserID == userID && (!ok || l.At.After(last.At)) {
			last, ok = l, true
		}
	}
	return last, ok, h.err
}

func (h *fakeHistory) SeenDevice(_ context.Context, userID string, d []byte) (bool, error) {
	for _, l := range h.logins {
		if l.UserID == userID && d != nil && bytes.Equal(l.DeviceHash, d) {
			return true, h.err
		}
	}
	return false, h.err
}

func (h *fakeHistory) SeenCountry(_ context.Context, userID, country string) (bool, error) {
	for _, l := range h.logins {
		if l.UserID == userID && l.Country == country {
			return true, h.err
		}
	}
	return false, h.err
}

func (h *fakeHistory) AddLogin(_ context.Context, l risk.Login) error {
	h.logins = append(h.logins, l)
	return h.err
}

type fakeLocator map[netip.Addr]risk.Place

func (f fakeLocator) Locate(ip netip.Addr) (risk.Place, bool) {
	p, ok := f[ip]
	return p, ok
}

// want is the expected part of a finding.
type want struct {
	risk        risk.Level
	unavailable bool
	reason      string
}

func check(t *testing.T, s risk.Signal, a risk.Attempt, w want, wantErr bool) {
	t.Helper()
	f, err := s.Assess(ctx, a)
	if (err != nil) != wantErr {
		t.Fatalf("error = %v, want error: %v", err, wantErr)
	}
	if wantErr {
		return
	}
	if f.Risk != w.risk || f.Unavailable != w.unavailable || f.Reason != w.reason {
		t.Errorf("finding = %v unavailable=%v %q\nwant      %v unavailable=%v %q", f.Risk, f.Unavailable, f.Reason, w.risk, w.unavailable, w.reason)
	}
}
