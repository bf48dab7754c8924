package passkey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/limits"
	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	origin  = "http://localhost:5556"
	rpID    = "localhost"
	binding = "session-hash-a"
	ttl     = 5 * time.Minute
)

var (
	ctxB = context.Background()
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	st   *store.Store
	svc  *passkey.Service
	now  time.Time
	ann  passkey.User
	bob  passkey.User
	auth *passkeytest.Authenticator // Ann's
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: storetest.NewStore(t), now: t0, auth: passkeytest.New(origin)}
	svc, err := passkey.New(passkey.Config{RPID: rpID, RPName: "Gatehouse", Origins: []string{origin}, CeremonyTTL: ttl},
		passkey.Deps{Store: f.st, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	f.ann = f.newUser(t, "ann@example.com", "Ann")
	f.bob = f.newUser(t, "bob@example.com", "Bob")
	return f
}

func (f *fixture) newUser(t *testing.T, email, name string) passkey.User {
	t.Helper()
	u, err := f.st.CreateUser(ctxB, account.NewUser{Email: email, Name: name, PasswordHash: "$argon2id$x", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	return passkey.User{ID: u.ID, Name: u.Email, DisplayName: name}
}

// register adds a passkey of a to u and fails the test if it cannot.
func (f *fixture) register(t *testing.T, u passkey.User, a *passkeytest.Authenticator, name string) passkey.Credential {
	t.Helper()
	c, err := f.tryRegister(u, a, name)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return c
}

func (f *fixture) tryRegister(u passkey.User, a *passkeytest.Authenticator, name string) (passkey.Credential, error) {
	id, opts, err := f.svc.BeginRegistration(ctxB, u, binding)
	if err != nil {
		return passkey.Credential{}, err
	}
	resp, err := a.Register(opts)
	if err != nil {
		return passkey.Credential{}, err
	}
	return f.svc.FinishRegistration(ctxB, u, binding, id, name, resp)
}

// login runs a second-factor sign-in of u with a.
func (f *fixture) login(u passkey.User, a *passkeytest.Authenticator) (passkey.Assertion, error) {
	id, opts, err := f.svc.BeginLogin(ctxB, u.ID, binding)
	if err != nil {
		return passkey.Assertion{}, err
	}
	resp, err := a.Assert(opts)
	if err != nil {
		return passkey.Assertion{}, err
	}
	return f.svc.FinishLogin(ctxB, u.ID, binding, id, resp)
}

func (f *fixture) discoverable(a *passkeytest.Authenticator) (passkey.Assertion, error) {
	id, opts, err := f.svc.BeginDiscoverable(ctxB, binding, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		return passkey.Assertion{}, err
	}
	resp, err := a.Assert(opts)
	if err != nil {
		return passkey.Assertion{}, err
	}
	return f.svc.FinishDiscoverable(ctxB, binding, id, resp)
}

func TestRegisterThenSecondFactorLogin(t *testing.T) {
	f := newFixture(t)
	c := f.register(t, f.ann, f.auth, "")
	if c.UserID != f.ann.ID || c.Name != "Passkey" || c.Authenticator != "Passkey" || c.Attachment != "platform" ||
		!c.UserVerified || c.SignCount != 1 || !c.CreatedAt.Equal(t0) || len(c.AAGUID) != 16 || c.Method() != "hwk" ||
		strings.Join(c.Transports, ",") != "hybrid,internal" || c.AttestationFormat != "none" {
		t.Fatalf("registered %+v", c)
	}

	f.now = t0.Add(time.Hour)
	id, opts, err := f.svc.BeginLogin(ctxB, f.ann.ID, binding)
	if err != nil {
		t.Fatal(err)
	}
	o := decodeOptions(t, opts)
	if o.PublicKey.UserVerification != "preferred" || len(o.PublicKey.Allow) != 1 || o.PublicKey.Allow[0].ID != b64(c.ID) || o.PublicKey.RPID != rpID {
		t.Fatalf("login options %s", opts)
	}
	resp, err := f.auth.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp)
	if err != nil {
		t.Fatalf("finish login: %v", err)
	}
	if got.UserID != f.ann.ID || !got.UserVerified || !bytes.Equal(got.Credential.ID, c.ID) ||
		got.Credential.SignCount != 2 || !got.Credential.LastUsedAt.Equal(f.now) {
		t.Fatalf("assertion %+v", got)
	}
}

func TestRegistrationOptions(t *testing.T) {
	f := newFixture(t)
	_, opts, err := f.svc.BeginRegistration(ctxB, f.ann, binding)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP   struct{ ID, Name string }
			User struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				DisplayName string `json:"displayName"`
			}
			Attestation string `json:"attestation"`
			Selection   struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Timeout int `json:"timeout"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	p := o.PublicKey
	wantHandle := b64(uuidBytes(t, f.ann.ID))
	if p.RP.ID != rpID || p.RP.Name != "Gatehouse" || p.User.ID != wantHandle || p.User.Name != "ann@example.com" ||
		p.User.DisplayName != "Ann" || p.Attestation != "none" || p.Selection.ResidentKey != "preferred" ||
		p.Selection.UserVerification != "preferred" || p.Timeout != int(ttl.Milliseconds()) {
		t.Fatalf("registration options %s", opts)
	}
}

func TestDiscoverableLoginFindsTheUser(t *testing.T) {
	f := newFixture(t)
	bobs := passkeytest.New(origin)
	f.register(t, f.ann, f.auth, "")
	bc := f.register(t, f.bob, bobs, "")

	_, opts, err := f.svc.BeginDiscoverable(ctxB, binding, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	o := decodeOptions(t, opts)
	if len(o.PublicKey.Allow) != 0 || o.PublicKey.UserVerification != "required" {
		t.Fatalf("discoverable options %s", opts)
	}
	got, err := f.discoverable(bobs)
	if err != nil {
		t.Fatalf("discoverable login: %v", err)
	}
	if got.UserID != f.bob.ID || !bytes.Equal(got.Credential.ID, bc.ID) || !got.UserVerified {
		t.Fatalf("assertion %+v, want Bob's", got)
	}
}

// TestRefused runs ceremonies that must fail, each on a fresh fixture where
// Ann has one passkey on f.auth.
func TestRefused(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture) error
		want error
	}{
		{"replayed ceremony", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			if _, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp); err != nil {
				t.Fatalf("first finish: %v", err)
			}
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"ceremony used up by a failed finish", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			if _, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, []byte(`{}`)); err == nil {
				t.Fatal("an empty response passed")
			}
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"replayed assertion in a new ceremony", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			old := must(f.auth.Assert(opts))
			if _, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, old); err != nil {
				t.Fatalf("first finish: %v", err)
			}
			id, _ = started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, old)
			return err
		}, passkey.ErrVerification},
		{"other binding", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, "session-hash-b", id, resp)
			if _, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp); err != nil {
				t.Errorf("the other binding used up the ceremony: %v", err)
			}
			return err
		}, passkey.ErrCeremonyNotFound},
		{"other user's ceremony", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			_, err := f.svc.FinishLogin(ctxB, f.bob.ID, binding, id, resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"other kind of ceremony", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			_, err := f.svc.FinishDiscoverable(ctxB, binding, id, resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"expired ceremony", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			f.now = f.now.Add(ttl)
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"wrong origin", func(t *testing.T, f *fixture) error {
			f.auth.Origin = "http://localhost:6666"
			_, err := f.login(f.ann, f.auth)
			return err
		}, passkey.ErrVerification},
		{"wrong RP id", func(t *testing.T, f *fixture) error {
			f.auth.RPID = "evil.example"
			f.auth.IgnoreAllowList = true
			_, err := f.login(f.ann, f.auth)
			return err
		}, passkey.ErrVerification},
		{"create response to a get", func(t *testing.T, f *fixture) error {
			f.auth.ClientDataType = "webauthn.create"
			_, err := f.login(f.ann, f.auth)
			return err
		}, passkey.ErrVerification},
		{"another user's credential", func(t *testing.T, f *fixture) error {
			bobs := passkeytest.New(origin)
			f.register(t, f.bob, bobs, "")
			bobs.IgnoreAllowList = true
			_, err := f.login(f.ann, bobs)
			return err
		}, passkey.ErrUnknownCredential},
		{"unregistered credential", func(t *testing.T, f *fixture) error {
			// Registered with another server of the same RP id.
			a := passkeytest.New(origin)
			other := newFixture(t)
			other.register(t, other.ann, a, "")
			_, err := f.discoverable(a)
			return err
		}, passkey.ErrUnknownCredential},
		{"passwordless without user verification", func(t *testing.T, f *fixture) error {
			f.auth.UserVerified = false
			_, err := f.discoverable(f.auth)
			return err
		}, passkey.ErrUserVerificationRequired},
		{"oversized response", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginLogin(ctxB, f.ann.ID, binding))
			resp := must(f.auth.Assert(opts))
			big := append(resp[:len(resp)-1], []byte(`,"pad":"`+strings.Repeat("x", 64<<10)+`"}`)...)
			_, err := f.svc.FinishLogin(ctxB, f.ann.ID, binding, id, big)
			return err
		}, passkey.ErrVerification},
		{"registration from another origin", func(t *testing.T, f *fixture) error {
			a := passkeytest.New("https://evil.example")
			_, err := f.tryRegister(f.bob, a, "")
			return err
		}, passkey.ErrVerification},
		{"registration for another RP id", func(t *testing.T, f *fixture) error {
			a := passkeytest.New(origin)
			a.RPID = "evil.example"
			_, err := f.tryRegister(f.bob, a, "")
			return err
		}, passkey.ErrVerification},
		{"registration under another binding", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginRegistration(ctxB, f.bob, binding))
			resp := must(passkeytest.New(origin).Register(opts))
			_, err := f.svc.FinishRegistration(ctxB, f.bob, "session-hash-b", id, "", resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"registration finished for another user", func(t *testing.T, f *fixture) error {
			id, opts := started(f.svc.BeginRegistration(ctxB, f.bob, binding))
			resp := must(passkeytest.New(origin).Register(opts))
			_, err := f.svc.FinishRegistration(ctxB, f.ann, binding, id, "", resp)
			return err
		}, passkey.ErrCeremonyNotFound},
		{"oversized registration", func(t *testing.T, f *fixture) error {
			id, _ := started(f.svc.BeginRegistration(ctxB, f.bob, binding))
			_, err := f.svc.FinishRegistration(ctxB, f.bob, binding, id, "", make([]byte, 64<<10+1))
			return err
		}, passkey.ErrVerification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.register(t, f.ann, f.auth, "")
			err := tt.run(t, f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestCounterGoingBackwardsRefusesTheCredentialForGood(t *testing.T) {
	f := newFixture(t)
	c := f.register(t, f.ann, f.auth, "")
	if _, err := f.login(f.ann, f.auth); err != nil {
		t.Fatal(err)
	}
	f.auth.Counter = 1 // the next answer reports 2, as the last one did
	if _, err := f.login(f.ann, f.auth); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("counter not increased: err = %v, want ErrCloned", err)
	}

	f.auth.Counter = 100
	if _, err := f.discoverable(f.auth); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("later passwordless sign-in: err = %v, want ErrCloned", err)
	}
	if _, _, err := f.svc.BeginLogin(ctxB, f.ann.ID, binding); !errors.Is(err, passkey.ErrNoCredentials) {
		t.Fatalf("begin login with only a cloned passkey: err = %v, want ErrNoCredentials", err)
	}
	if has, err := f.svc.Has(ctxB, f.ann.ID); has || err != nil {
		t.Fatalf("Has = %v, %v; want false", has, err)
	}
	list, err := f.svc.List(ctxB, f.ann.ID)
	if err != nil || len(list) != 1 || !list[0].CloneWarning || list[0].SignCount != 2 || !bytes.Equal(list[0].ID, c.ID) {
		t.Fatalf("list = %+v, %v; want the credential flagged at counter 2", list, err)
	}
}

func TestCounters(t *testing.T) {
	tests := []struct {
		name                 string
		registered, signedIn uint32 // counters reported; zero is an authenticator without one
		refuse               bool
	}{
		{"synced passkey reporting zero", 0, 0, false},
		{"counter moving on", 5, 8, false},
		{"counter standing still", 5, 5, true},
		{"counter going back", 10, 4, true},
		{"zero after counting", 5, 0, false},
		{"counting after zero", 0, 1, false},
	}
	report := func(a *passkeytest.Authenticator, n uint32) {
		a.FixedCounter = n == 0
		a.Counter = max(n, 1) - 1
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			report(f.auth, tt.registered)
			if c := f.register(t, f.ann, f.auth, ""); c.SignCount != tt.registered {
				t.Fatalf("registered with counter %d, want %d", c.SignCount, tt.registered)
			}
			report(f.auth, tt.signedIn)
			_, err := f.login(f.ann, f.auth)
			if tt.refuse != errors.Is(err, passkey.ErrCloned) || (!tt.refuse && err != nil) {
				t.Fatalf("err = %v, refuse = %v", err, tt.refuse)
			}
		})
	}
}

func TestExcludeCredentialsListsExisting(t *testing.T) {
	f := newFixture(t)
	key := passkeytest.New(origin)
	c1 := f.register(t, f.ann, f.auth, "")
	f.now = f.now.Add(time.Minute)
	c2 := f.register(t, f.ann, key, "")
	_, opts, err := f.svc.BeginRegistration(ctxB, f.ann, binding)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			Exclude []struct{ ID, Type string } `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range o.PublicKey.Exclude {
		got = append(got, d.ID)
	}
	if want := []string{b64(c2.ID), b64(c1.ID)}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("excludeCredentials = %v, want %v", got, want)
	}
	if _, err := f.auth.Register(opts); !errors.Is(err, passkeytest.ErrExcluded) {
		t.Fatalf("authenticator with an excluded credential registered again: %v", err)
	}
}

func TestDuplicateRegistrationRefused(t *testing.T) {
	f := newFixture(t)
	c := f.register(t, f.ann, f.auth, "")
	copycat := passkeytest.New(origin)
	copycat.NextCredentialID = c.ID
	if _, err := f.tryRegister(f.bob, copycat, ""); !errors.Is(err, passkey.ErrAlreadyRegistered) {
		t.Fatalf("err = %v, want ErrAlreadyRegistered", err)
	}
	if list, err := f.svc.List(ctxB, f.bob.ID); err != nil || len(list) != 0 {
		t.Fatalf("Bob got %d passkeys", len(list))
	}
}

func TestTooMany(t *testing.T) {
	f := newFixture(t)
	for range passkey.MaxPerUser {
		f.register(t, f.ann, passkeytest.New(origin), "")
	}
	if _, _, err := f.svc.BeginRegistration(ctxB, f.ann, binding); !errors.Is(err, passkey.ErrTooMany) {
		t.Fatalf("err = %v, want ErrTooMany", err)
	}
}

func TestRename(t *testing.T) {
	f := newFixture(t)
	c := f.register(t, f.ann, f.auth, "")
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"trimmed", "  Work laptop \t", "Work laptop", nil},
		{"64 characters", strings.Repeat("é", 64), strings.Repeat("é", 64), nil},
		{"empty", "", "", passkey.ErrBadName},
		{"only spaces", "   ", "", passkey.ErrBadName},
		{"65 characters", strings.Repeat("é", 65), "", passkey.ErrBadName},
		{"newline", "Work\nlaptop", "", passkey.ErrBadName},
		{"NUL", "Work\x00", "", passkey.ErrBadName},
		{"not UTF-8", "Work\xff", "", passkey.ErrBadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.svc.Rename(ctxB, f.ann.ID, c.ID, tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil {
				list, err := f.svc.List(ctxB, f.ann.ID)
				if err != nil {
					t.Fatal(err)
				}
				if list[0].Name != tt.want {
					t.Fatalf("name = %q, want %q", list[0].Name, tt.want)
				}
			}
		})
	}
	if err := f.svc.Rename(ctxB, f.bob.ID, c.ID, "Mine now"); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Fatalf("rename of another user's passkey: err = %v", err)
	}
}

func TestRegistrationName(t *testing.T) {
	f := newFixture(t)
	c := f.register(t, f.ann, f.auth, "  Phone ")
	if c.Name != "Phone" {
		t.Fatalf("name = %q", c.Name)
	}
	id, opts := started(f.svc.BeginRegistration(ctxB, f.ann, binding))
	resp := must(passkeytest.New(origin).Register(opts))
	if _, err := f.svc.FinishRegistration(ctxB, f.ann, binding, id, "bad\x07", resp); !errors.Is(err, passkey.ErrBadName) {
		t.Fatalf("err = %v, want ErrBadName", err)
	}
	if _, err := f.svc.FinishRegistration(ctxB, f.ann, binding, id, "Laptop", resp); err != nil {
		t.Fatalf("a bad name used up the ceremony: %v", err)
	}
}

func TestRemove(t *testing.T) {
	f := newFixture(t)
	c1 := f.register(t, f.ann, f.auth, "")
	f.register(t, f.ann, passkeytest.New(origin), "")
	f.register(t, f.bob, passkeytest.New(origin), "")

	if _, err := f.svc.Remove(ctxB, f.bob.ID, c1.ID); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Fatalf("Bob removed Ann's passkey: err = %v", err)
	}
	got, err := f.svc.Remove(ctxB, f.ann.ID, c1.ID)
	if err != nil || !bytes.Equal(got.ID, c1.ID) || got.Name != c1.Name {
		t.Fatalf("remove = %+v, %v", got, err)
	}
	if _, err := f.svc.Remove(ctxB, f.ann.ID, c1.ID); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Fatalf("second remove: err = %v", err)
	}
	if _, err := f.login(f.ann, f.auth); !errors.Is(err, passkeytest.ErrNoCredential) {
		t.Fatalf("login with a removed passkey: err = %v", err)
	}

	if n, err := f.svc.RemoveAll(ctxB, f.ann.ID); n != 1 || err != nil {
		t.Fatalf("remove all = %d, %v; want 1", n, err)
	}
	if has, err := f.svc.Has(ctxB, f.ann.ID); err != nil || has {
		t.Fatal("Ann still has a passkey")
	}
	if has, err := f.svc.Has(ctxB, f.bob.ID); err != nil || !has {
		t.Fatal("Bob lost his passkey")
	}
}

func TestAuthenticatorRecorded(t *testing.T) {
	icloud := [16]byte(uuid.MustParse("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"))
	tests := []struct {
		name       string
		set        func(a *passkeytest.Authenticator)
		wantName   string
		be, bs     bool
		attachment string
		method     string
	}{
		{"synced passkey", func(a *passkeytest.Authenticator) {
			a.BackupEligible, a.BackupState, a.FixedCounter, a.AAGUID = true, true, true, icloud
		}, "iCloud Keychain", true, true, "platform", "swk"},
		{"synced passkey not yet backed up", func(a *passkeytest.Authenticator) {
			a.BackupEligible = true
		}, "Passkey", true, false, "platform", "swk"},
		{"security key", func(a *passkeytest.Authenticator) {
			a.Attachment, a.Transports, a.Resident = "cross-platform", []string{"usb", "nfc"}, false
		}, "Security key", false, false, "cross-platform", "hwk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.set(f.auth)
			c := f.register(t, f.ann, f.auth, "")
			if c.Authenticator != tt.wantName || c.Name != tt.wantName || c.BackupEligible != tt.be ||
				c.BackupState != tt.bs || c.Attachment != tt.attachment || c.Method() != tt.method {
				t.Fatalf("registered %+v", c)
			}
			list, err := f.svc.List(ctxB, f.ann.ID)
			if err != nil {
				t.Fatal(err)
			}
			if list[0].Authenticator != tt.wantName || list[0].BackupState != tt.bs {
				t.Fatalf("stored %+v", list[0])
			}
		})
	}
}

func TestBackupStateFollowsSignIns(t *testing.T) {
	f := newFixture(t)
	f.auth.BackupEligible = true
	f.register(t, f.ann, f.auth, "")
	f.auth.BackupState = true
	got, err := f.login(f.ann, f.auth)
	if err != nil || !got.Credential.BackupState {
		t.Fatalf("after a backed-up sign-in: %+v, %v", got.Credential, err)
	}
	f.auth.BackupEligible = false
	f.auth.BackupState = false
	if _, err := f.login(f.ann, f.auth); !errors.Is(err, passkey.ErrVerification) {
		t.Fatalf("backup eligibility changed: err = %v, want ErrVerification", err)
	}
}

func TestConfigFromIssuer(t *testing.T) {
	tests := []struct {
		issuer, rpID, origin string
		ok                   bool
	}{
		{"https://id.example.com/", "id.example.com", "https://id.example.com", true},
		{"https://localhost:8443/", "localhost", "https://localhost:8443", true},
		{"http://127.0.0.1:8080/", "", "", false},
		{"http://[::1]:8080/", "", "", false},
		{"id.example.com", "", "", false},
	}
	for _, tt := range tests {
		cfg, err := passkey.ConfigFromIssuer(tt.issuer, "Acme")
		if (err == nil) != tt.ok || cfg.RPID != tt.rpID || (tt.ok && (len(cfg.Origins) != 1 || cfg.Origins[0] != tt.origin || cfg.RPName != "Acme")) {
			t.Errorf("ConfigFromIssuer(%q) = %+v, %v", tt.issuer, cfg, err)
		}
	}
}

type options struct {
	PublicKey struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		UserVerification string `json:"userVerification"`
		Allow            []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func decodeOptions(t *testing.T, b []byte) options {
	t.Helper()
	var o options
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("options %s: %v", b, err)
	}
	return o
}

// started and must stop a test whose setup failed; the panic names the
// test and the error.
func started(id string, opts []byte, err error) (string, []byte) {
	if err != nil {
		panic(err)
	}
	return id, opts
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func uuidBytes(t *testing.T, id string) []byte {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	return u[:]
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestNewRefusesRelyingPartiesBrowsersRefuse(t *testing.T) {
	var st *store.Store
	tests := []struct {
		name string
		cfg  passkey.Config
	}{
		{"IP address as RP id", passkey.Config{RPID: "127.0.0.1", Origins: []string{"http://127.0.0.1:8080"}}},
		{"no RP id", passkey.Config{Origins: []string{origin}}},
		{"no origin", passkey.Config{RPID: rpID}},
	}
	for _, tt := range tests {
		if _, err := passkey.New(tt.cfg, passkey.Deps{Store: st}); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestAnAddressMayBeginOnlySoManyPasswordlessSignIns(t *testing.T) {
	f := newFixture(t)
	svc, err := passkey.New(passkey.Config{RPID: rpID, Origins: []string{origin}, AnonymousPerIP: limits.Limit{Max: 3, Window: time.Minute}},
		passkey.Deps{Store: f.st, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	flood, other := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("198.51.100.7")
	for i := range 3 {
		// Another address in the same /64 counts as the same network.
		from := flood
		if i == 2 {
			from = netip.MustParseAddr("2001:db8::ffff")
		}
		if _, _, err := svc.BeginDiscoverable(ctxB, "b", from); err != nil {
			t.Fatalf("ceremony %d: %v", i+1, err)
		}
	}
	if _, _, err := svc.BeginDiscoverable(ctxB, "b", flood); !errors.Is(err, passkey.ErrTooManyCeremonies) {
		t.Fatalf("fourth ceremony from one /64: %v, want ErrTooManyCeremonies", err)
	}
	if _, _, err := svc.BeginDiscoverable(ctxB, "b", other); err != nil {
		t.Fatalf("another address is not held back: %v", err)
	}
	f.now = f.now.Add(time.Minute)
	if _, _, err := svc.BeginDiscoverable(ctxB, "b", flood); err != nil {
		t.Fatalf("the next window: %v", err)
	}
}
