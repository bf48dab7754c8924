package store_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var (
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ipA  = netip.MustParseAddr("192.0.2.10")
	ipB  = netip.MustParseAddr("2001:db8::1")
	ctxB = context.Background()
)

func newUser(t *testing.T, st *store.Store, email string) account.User {
	t.Helper()
	u, err := st.CreateUser(ctxB, account.NewUser{Email: email, Name: "Ann", PasswordHash: "$argon2id$x", CreatedAt: t0})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestMigrateTwiceAtOnceBothSucceed(t *testing.T) {
	url := storetest.NewEmptyDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	versions := make([]int32, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pgxpool.New(ctxB, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			versions[i], errs[i] = store.Migrate(ctxB, pool)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migration run %d: %v", i, err)
		}
	}
	if versions[0] != versions[1] || versions[0] < 1 {
		t.Fatalf("versions after concurrent runs = %v, want equal and >= 1", versions)
	}
}

func TestMigrateAgainIsANoOp(t *testing.T) {
	st := storetest.NewStore(t)
	v1, err := store.Migrate(ctxB, st.Pool())
	if err != nil {
		t.Fatal(err)
	}
	v2, err := store.Migrate(ctxB, st.Pool())
	if err != nil || v1 != v2 {
		t.Fatalf("second migrate = %d, %v; want %d, nil", v2, err, v1)
	}
}

// ternLock is the key of the session advisory lock tern holds while it
// migrates.
const ternLock int64 = 9628173550095224

func TestMigrateOfAnUpToDateSchemaTakesNoLock(t *testing.T) {
	url := storetest.NewDatabase(t)
	// Another session holds the migrations' lock, as a deploy job migrating
	// does, or as a transaction pooler leaves it on a server connection.
	holder, err := pgx.Connect(ctxB, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctxB)
	if _, err := holder.Exec(ctxB, `select pg_advisory_lock($1)`, ternLock); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctxB, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Bounds the wait a lock would cause; an up-to-date schema needs none.
	ctx, cancel := context.WithTimeout(ctxB, 30*time.Second)
	defer cancel()
	var want int32
	if err := holder.QueryRow(ctxB, `select version from schema_version`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	v, err := store.Migrate(ctx, pool)
	if err != nil || v != want {
		t.Fatalf("Migrate of an up-to-date schema while the lock is held = %d, %v; want %d at once", v, err, want)
	}
}

func TestUsersEmailIsUniqueIgnoringCase(t *testing.T) {
	st := storetest.NewStore(t)
	newUser(t, st, "Ann@Example.com")
	_, err := st.CreateUser(ctxB, account.NewUser{Email: "ann@example.COM", CreatedAt: t0})
	if !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("duplicate email in other case: err = %v, want ErrEmailTaken", err)
	}
}

func TestUserByEmailIgnoresCaseAndKeepsTheTypedForm(t *testing.T) {
	st := storetest.NewStore(t)
	created := newUser(t, st, "Ann@Example.com")
	got, err := st.UserByEmail(ctxB, "ANN@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Email != "Ann@Example.com" || got.Name != "Ann" {
		t.Fatalf("got %+v, want the user created as Ann@Example.com", got)
	}
	if !got.PasswordChangedAt.Equal(t0) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("timestamps: created %v changed %v, want %v", got.CreatedAt, got.PasswordChangedAt, t0)
	}
}

func TestUserLookupsAnswerNotFound(t *testing.T) {
	st := storetest.NewStore(t)
	for name, lookup := range map[string]func() error{
		"unknown email":  func() error { _, err := st.UserByEmail(ctxB, "nobody@example.com"); return err },
		"unknown id":     func() error { _, err := st.UserByID(ctxB, "6f1c1e2a-0000-4000-8000-000000000000"); return err },
		"malformed id":   func() error { _, err := st.UserByID(ctxB, "not-a-uuid'; drop table users"); return err },
		"set hash on id": func() error { return st.SetPasswordHash(ctxB, "6f1c1e2a-0000-4000-8000-000000000000", "h", t0) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := lookup(); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestSetPasswordHashKeepsChangeTimeForARehash(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.SetPasswordHash(ctxB, u.ID, "rehashed", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err := st.UserByID(ctxB, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "rehashed" || !got.PasswordChangedAt.Equal(t0) {
		t.Fatalf("after rehash: hash %q changed %v; want rehashed, %v", got.PasswordHash, got.PasswordChangedAt, t0)
	}
	later := t0.Add(time.Hour)
	if err := st.SetPasswordHash(ctxB, u.ID, "changed", later); err != nil {
		t.Fatal(err)
	}
	got, err = st.UserByID(ctxB, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PasswordChangedAt.Equal(later) {
		t.Fatalf("after change: changed at %v, want %v", got.PasswordChangedAt, later)
	}
}

func TestDeletingAUserKeepsItsAuditTrail(t *testing.T) {
	st := storetest.NewStore(t)
	u := newUser(t, st, "ann@example.com")
	if err := st.Record(ctxB, account.Event{At: t0, Type: account.EventSignup, UserID: u.ID, IP: ipB,
		Details: map[string]any{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctxB, `delete from users where id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	var ip netip.Addr
	if err := st.Pool().QueryRow(ctxB, `select count(*), max(host(ip))::inet from audit_log where user_id = $1`, u.ID).Scan(&n, &ip); err != nil {
		t.Fatal(err)
	}
	if n != 1 || ip != ipB {
		t.Fatalf("audit rows for deleted user = %d (ip %v), want 1 (ip %v)", n, ip, ipB)
	}
}

func TestSettingsKeepTheirHistory(t *testing.T) {
	st := storetest.NewStore(t)
	for _, v := range []struct{ value, by string }{{"never", "cli:ann"}, {"always", "cli:bob"}} {
		if err := st.SetSetting(ctxB, "mfa_policy", v.value, v.by); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Setting(ctxB, "mfa_policy")
	if err != nil || got != "always" {
		t.Fatalf("setting = %q, %v; want always", got, err)
	}
	h, err := st.SettingHistory(ctxB, "mfa_policy", 10)
	if err != nil || len(h) != 2 || h[0].Value != "always" || h[0].ChangedBy != "cli:bob" || h[1].ChangedBy != "cli:ann" {
		t.Fatalf("history = %+v, %v; want two changes, newest first, with their authors", h, err)
	}
	if _, err := st.Setting(ctxB, "never_set"); !errors.Is(err, store.ErrSettingNotFound) {
		t.Fatalf("unset setting: %v, want ErrSettingNotFound", err)
	}
}
