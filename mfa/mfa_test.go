package mfa_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/account/accounttest"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	ctx  = context.Background()
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	home = netip.MustParseAddr("198.51.100.7")
)

// outbox stands in for the SMS outbox, another package's boundary: it keeps
// what it is handed, or refuses with err.
type outbox struct {
	mu   sync.Mutex
	msgs []mfa.OutboxMessage
	err  error
}

func (o *outbox) Enqueue(_ context.Context, m mfa.OutboxMessage) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.msgs = append(o.msgs, m)
	return nil
}

func (o *outbox) last(t *testing.T) mfa.OutboxMessage {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no message enqueued")
	}
	return o.msgs[len(o.msgs)-1]
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

type fixture struct {
	svc    *mfa.Service
	st     *store.Store
	clock  *accounttest.Clock
	outbox *outbox
	user   account.User
	n      int // numbers handed out by newUser, newPhone and newIP
}

func newFixture(t *testing.T, rules mfa.Rules) *fixture {
	t.Helper()
	f := &fixture{st: storetest.NewStore(t), clock: accounttest.NewClock(t0), outbox: &outbox{}}
	f.svc = newService(t, f.st, f.clock, f.outbox, rules)
	f.user = f.newUser(t)
	return f
}

func newService(t *testing.T, st *store.Store, clock *accounttest.Clock, out mfa.Outbox, rules mfa.Rules) *mfa.Service {
	t.Helper()
	vault, err := mfa.NewPhoneVault(master)
	if err != nil {
		t.Fatal(err)
	}
	return mfa.NewService(mfa.Deps{
		Store: st, Outbox: out, Audit: st, Codes: mfa.NewCodeHasher(master), Vault: vault,
		Rules: rules, Now: clock.Now,
	})
}

func (f *fixture) newUser(t *testing.T) account.User {
	t.Helper()
	f.n++
	u, err := f.st.CreateUser(ctx, account.NewUser{Email: fmt.Sprintf("user%d@example.com", f.n), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newPhone returns a UK mobile no other call returned.
func (f *fixture) newPhone(t *testing.T) mfa.Phone {
	t.Helper()
	f.n++
	return mustPhone(t, fmt.Sprintf("+4474001%05d", f.n))
}

func (f *fixture) newIP() netip.Addr {
	f.n++
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(f.n)})
}

func mustPhone(t *testing.T, s string) mfa.Phone {
	t.Helper()
	p, err := mfa.ParsePhone(s, "GB", nil)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return p
}

var ann = "+447400123456"

// start begins an enrollment challenge for the user and returns it with the
// code that was sent.
func (f *fixture) start(t *testing.T, r mfa.StartRequest) (mfa.Challenge, string) {
	t.Helper()
	c, err := f.svc.StartChallenge(ctx, f.request(t, r))
	if err != nil {
		t.Fatalf("start challenge: %v", err)
	}
	return c, f.outbox.last(t).Code
}

// request fills in what r leaves out: the fixture's user, an enrollment of
// Ann's phone from home.
func (f *fixture) request(t *testing.T, r mfa.StartRequest) mfa.StartRequest {
	t.Helper()
	if r.UserID == "" {
		r.UserID = f.user.ID
	}
	if r.TxID == "" {
		r.TxID = "tx-1"
	}
	if r.Purpose == "" {
		r.Purpose = mfa.PurposeEnroll
	}
	if r.Phone.E164 == "" && r.Purpose == mfa.PurposeEnroll {
		r.Phone = mustPhone(t, ann)
	}
	if !r.IP.IsValid() {
		r.IP = home
	}
	return r
}

func (f *fixture) auditCount(t *testing.T, event string) int {
	t.Helper()
	var n int
	if err := f.st.Pool().QueryRow(ctx, `select count(*) from audit_log where event = $1`, event).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) failures(t *testing.T, userID string) mfa.FailureState {
	t.Helper()
	st, err := f.st.MFAFailures(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// wrongCode is a code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
