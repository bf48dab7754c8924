package store_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

// The contract of fosite's storage (store.OAuth2), stated against a real
// database with real fosite types. TestOAuth2WithFosite at the end drives the
// same storage through fosite's own handlers.

type clientMap struct {
	mu sync.Mutex
	m  map[string]fosite.Client
}

func (c *clientMap) GetClient(_ context.Context, id string) (fosite.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[id]; ok {
		return cl, nil
	}
	return nil, fosite.ErrNotFound
}

func (c *clientMap) delete(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func spaClient(id string) *fosite.DefaultOpenIDConnectClient {
	return &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID:            id,
			Public:        true,
			RedirectURIs:  []string{"https://app.example.com/callback"},
			GrantTypes:    []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"},
			Scopes:        []string{"openid", "offline_access", "profile"},
			Audience:      []string{"https://api.example.com"},
		},
		TokenEndpointAuthMethod: "none",
	}
}

type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type oauth2Fixture struct {
	st      *store.Store
	o       *store.OAuth2
	clients *clientMap
	clock   *clock
}

// newOAuth2 is the storage on a fresh database with clients "spa" and "other"
// and a clock standing at t0; cfg.Now is replaced by that clock.
func newOAuth2(t *testing.T, cfg store.OAuth2Config) oauth2Fixture {
	t.Helper()
	f := oauth2Fixture{
		st:      storetest.NewStore(t),
		clients: &clientMap{m: map[string]fosite.Client{"spa": spaClient("spa"), "other": spaClient("other")}},
		clock:   &clock{base: func() time.Time { return t0 }},
	}
	cfg.Now = f.clock.Now
	f.o = store.NewOAuth2(f.st, f.clients, cfg)
	return f
}

// grantRequest is what fosite stores for a grant of client to subject, every
// field set.
func grantRequest(id, client, subject string) *fosite.Request {
	sess := openid.NewDefaultSession()
	sess.Subject = subject
	sess.Username = "ann@example.com"
	sess.Claims.Subject = subject
	sess.Claims.AuthTime = t0.Add(-time.Minute)
	sess.Claims.RequestedAt = t0.Add(-2 * time.Minute)
	sess.Claims.Nonce = "nonce-123456"
	sess.Claims.AuthenticationMethodsReferences = []string{"pwd", "sms", "mfa"}
	sess.Claims.Extra = map[string]any{"email": "ann@example.com", "email_verified": true}
	sess.Headers.Extra = map[string]any{"kid": "key-1"}
	sess.ExpiresAt = map[fosite.TokenType]time.Time{
		fosite.AuthorizeCode: t0.Add(time.Minute),
		fosite.AccessToken:   t0.Add(10 * time.Minute),
		fosite.RefreshToken:  t0.Add(14 * 24 * time.Hour),
	}

	req := fosite.NewRequest()
	req.ID = id
	req.RequestedAt = t0.Add(-2 * time.Minute)
	req.Client = spaClient(client)
	req.RequestedScope = fosite.Arguments{"openid", "offline_access", "profile"}
	req.GrantedScope = fosite.Arguments{"openid", "offline_access"}
	req.RequestedAudience = fosite.Arguments{"https://api.example.com"}
	req.GrantedAudience = fosite.Arguments{"https://api.example.com"}
	req.Form = url.Values{
		"redirect_uri":          {"https://app.example.com/callback"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
		"scope":                 {"openid offline_access profile"},
		"multi":                 {"a", "b&c=d"},
	}
	req.Session = sess
	return req
}

// tokenKind is one kind of row with its create and get.
type tokenKind struct {
	name   string
	create func(ctx context.Context, sig string, req fosite.Requester) error
	get    func(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error)
}

func tokenKinds(o *store.OAuth2) []tokenKind {
	return []tokenKind{
		{"authorize code", o.CreateAuthorizeCodeSession, o.GetAuthorizeCodeSession},
		{"pkce", o.CreatePKCERequestSession, o.GetPKCERequestSession},
		{"openid connect", o.CreateOpenIDConnectSession,
			func(ctx context.Context, code string, s fosite.Session) (fosite.Requester, error) {
				return o.GetOpenIDConnectSession(ctx, code, &fosite.Request{Session: s})
			}},
		{"access token", o.CreateAccessTokenSession, o.GetAccessTokenSession},
		{"refresh token",
			func(ctx context.Context, sig string, req fosite.Requester) error {
				return o.CreateRefreshTokenSession(ctx, sig, "at-"+sig, req)
			},
			o.GetRefreshTokenSession},
	}
}

func sessionJSON(t *testing.T, s fosite.Session) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOAuth2EveryKindRoundTripsTheWholeRequest(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for _, k := range tokenKinds(f.o) {
		t.Run(k.name, func(t *testing.T) {
			want := grantRequest("grant-"+k.name, "spa", "user-1")
			if err := k.create(ctxB, "sig-"+k.name, want); err != nil {
				t.Fatal(err)
			}
			sess := openid.NewDefaultSession()
			got, err := k.get(ctxB, "sig-"+k.name, sess)
			if err != nil {
				t.Fatal(err)
			}
			if got.GetID() != want.ID || !got.GetRequestedAt().Equal(want.RequestedAt) || got.GetClient().GetID() != "spa" {
				t.Errorf("id %q requested at %v client %q; want %q, %v, spa",
					got.GetID(), got.GetRequestedAt(), got.GetClient().GetID(), want.ID, want.RequestedAt)
			}
			for name, pair := range map[string][2]fosite.Arguments{
				"requested scope":    {got.GetRequestedScopes(), want.RequestedScope},
				"granted scope":      {got.GetGrantedScopes(), want.GrantedScope},
				"requested audience": {got.GetRequestedAudience(), want.RequestedAudience},
				"granted audience":   {got.GetGrantedAudience(), want.GrantedAudience},
			} {
				if !reflect.DeepEqual(pair[0], pair[1]) {
					t.Errorf("%s = %q, want %q", name, pair[0], pair[1])
				}
			}
			if !reflect.DeepEqual(got.GetRequestForm(), want.Form) {
				t.Errorf("form = %v, want %v", got.GetRequestForm(), want.Form)
			}
			if got.GetSession() != sess {
				t.Errorf("the session is not the prototype passed in")
			}
			if sess.Claims.Subject != "user-1" || sess.Claims.Extra["email"] != "ann@example.com" ||
				!sess.GetExpiresAt(fosite.RefreshToken).Equal(t0.Add(14*24*time.Hour)) {
				t.Errorf("session claims %+v expiry %v: not the stored ones", sess.Claims, sess.ExpiresAt)
			}
			if g, w := sessionJSON(t, sess), sessionJSON(t, want.Session); g != w {
				t.Errorf("session\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestOAuth2NilSessionLeavesTheSessionOut(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for _, k := range tokenKinds(f.o) {
		t.Run(k.name, func(t *testing.T) {
			if err := k.create(ctxB, "sig", grantRequest("grant-1", "spa", "user-1")); err != nil {
				t.Fatal(err)
			}
			got, err := k.get(ctxB, "sig", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.GetSession() != nil || got.GetID() != "grant-1" || got.GetClient().GetID() != "spa" {
				t.Fatalf("session %v id %q client %q; want nil, grant-1, spa", got.GetSession(), got.GetID(), got.GetClient().GetID())
			}
		})
	}
}

func TestOAuth2UnknownSignatureIsNotFound(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for _, k := range tokenKinds(f.o) {
		t.Run(k.name, func(t *testing.T) {
			got, err := k.get(ctxB, "nope", openid.NewDefaultSession())
			if !errors.Is(err, fosite.ErrNotFound) || got != nil {
				t.Fatalf("get unknown = %v, %v; want nil, ErrNotFound", got, err)
			}
		})
	}
}

func TestOAuth2DeletedClientMakesItsTokensNotFound(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for _, k := range tokenKinds(f.o) {
		if err := k.create(ctxB, "sig", grantRequest("grant-1", "other", "user-1")); err != nil {
			t.Fatal(err)
		}
	}
	f.clients.delete("other")
	for _, k := range tokenKinds(f.o) {
		if got, err := k.get(ctxB, "sig", openid.NewDefaultSession()); !errors.Is(err, fosite.ErrNotFound) || got != nil {
			t.Errorf("%s of a deleted client = %v, %v; want nil, ErrNotFound", k.name, got, err)
		}
	}
}

func TestOAuth2StoresNoSignatureOrCode(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for _, k := range tokenKinds(f.o) {
		if err := k.create(ctxB, "bearer-secret-"+k.name, grantRequest("grant-1", "spa", "user-1")); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := f.st.Pool().QueryRow(ctxB, `
		select count(*) from oauth2_tokens t where position('bearer-secret' in t::text) > 0`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows hold a signature or code in clear", n)
	}
}

func TestOAuth2DeletesBySignature(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	deletes := map[string]func(context.Context, string) error{
		"pkce":           f.o.DeletePKCERequestSession,
		"openid connect": f.o.DeleteOpenIDConnectSession,
		"access token":   f.o.DeleteAccessTokenSession,
		"refresh token":  f.o.DeleteRefreshTokenSession,
	}
	for _, k := range tokenKinds(f.o) {
		del, ok := deletes[k.name]
		if !ok {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			for _, sig := range []string{"doomed", "kept"} {
				if err := k.create(ctxB, sig, grantRequest("grant-1", "spa", "user-1")); err != nil {
					t.Fatal(err)
				}
			}
			if err := del(ctxB, "doomed"); err != nil {
				t.Fatal(err)
			}
			if err := del(ctxB, "doomed"); err != nil {
				t.Fatalf("deleting again: %v, want nil", err)
			}
			if _, err := k.get(ctxB, "doomed", nil); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("deleted: err = %v, want ErrNotFound", err)
			}
			if _, err := k.get(ctxB, "kept", nil); err != nil {
				t.Errorf("the other one: %v", err)
			}
		})
	}
}

func TestOAuth2UsedCodeReturnsItsRequestWithErrInvalidated(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	if err := f.o.CreateAuthorizeCodeSession(ctxB, "code", grantRequest("grant-1", "spa", "user-1")); err != nil {
		t.Fatal(err)
	}
	if err := f.o.InvalidateAuthorizeCodeSession(ctxB, "code"); err != nil {
		t.Fatal(err)
	}
	sess := openid.NewDefaultSession()
	got, err := f.o.GetAuthorizeCodeSession(ctxB, "code", sess)
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("err = %v, want ErrInvalidatedAuthorizeCode", err)
	}
	if got == nil || got.GetID() != "grant-1" || sess.Subject != "user-1" {
		t.Fatalf("request = %v, want grant-1 with its session: fosite revokes the grant by its id", got)
	}
	if err := f.o.InvalidateAuthorizeCodeSession(ctxB, "code"); err == nil {
		t.Fatal("invalidating a used code again succeeded")
	}
}

// race runs fn twice at once, each in its own transaction as fosite does, and
// returns both results.
func race(t *testing.T, o *store.OAuth2, fn func(ctx context.Context) error) [2]error {
	t.Helper()
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, err := o.BeginTX(ctxB)
			if err != nil {
				errs[i] = err
				return
			}
			if errs[i] = fn(ctx); errs[i] != nil {
				if err := o.Rollback(ctx); err != nil {
					t.Error(err)
				}
				return
			}
			errs[i] = o.Commit(ctx)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func winners(errs [2]error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

func TestOAuth2ConcurrentRedemptionsOfOneCodeExactlyOneWins(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	for i := range 10 {
		code := "code-" + string(rune('a'+i))
		if err := f.o.CreateAuthorizeCodeSession(ctxB, code, grantRequest(code, "spa", "user-1")); err != nil {
			t.Fatal(err)
		}
		errs := race(t, f.o, func(ctx context.Context) error {
			return f.o.InvalidateAuthorizeCodeSession(ctx, code)
		})
		if winners(errs) != 1 {
			t.Fatalf("round %d: results %v, want exactly one nil", i, errs)
		}
	}
}

// refreshGrant stores a grant's refresh token rt issued with access token at.
func refreshGrant(t *testing.T, o *store.OAuth2, grant, rt, at string) {
	t.Helper()
	req := grantRequest(grant, "spa", "user-1")
	if err := o.CreateAccessTokenSession(ctxB, at, req); err != nil {
		t.Fatal(err)
	}
	if err := o.CreateRefreshTokenSession(ctxB, rt, at, req); err != nil {
		t.Fatal(err)
	}
}

func TestOAuth2RotatedRefreshTokenWorksWithinTheReuseInterval(t *testing.T) {
	cfg := store.DefaultOAuth2Config()
	cfg.RefreshReuseInterval = 3 * time.Second
	f := newOAuth2(t, cfg)
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	if err := f.o.CreateAccessTokenSession(ctxB, "at-other", grantRequest("grant-1", "spa", "user-1")); err != nil {
		t.Fatal(err)
	}

	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "at-1", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("access token issued with the rotated refresh token: err = %v, want ErrNotFound", err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "at-other", nil); err != nil {
		t.Errorf("another access token of the grant: %v, want it kept (graceful mode)", err)
	}

	f.clock.Advance(2 * time.Second)
	if _, err := f.o.GetRefreshTokenSession(ctxB, "rt-1", openid.NewDefaultSession()); err != nil {
		t.Fatalf("2s after rotation: %v, want it still active", err)
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatalf("rotating again 2s later (a second tab): %v", err)
	}

	f.clock.Advance(time.Second) // the interval counts from the first rotation
	got, err := f.o.GetRefreshTokenSession(ctxB, "rt-1", openid.NewDefaultSession())
	if !errors.Is(err, fosite.ErrInactiveToken) || got == nil || got.GetID() != "grant-1" {
		t.Fatalf("3s after rotation = %v, %v; want the grant-1 request and ErrInactiveToken", got, err)
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("rotating after the interval: %v, want ErrNotFound", err)
	}
}

func TestOAuth2StrictRotationKillsTheTokenAndTheGrantsAccessTokens(t *testing.T) {
	f := newOAuth2(t, store.OAuth2Config{RefreshReuseInterval: 0})
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	refreshGrant(t, f.o, "grant-2", "rt-2", "at-2")
	if err := f.o.CreateAccessTokenSession(ctxB, "at-other", grantRequest("grant-1", "spa", "user-1")); err != nil {
		t.Fatal(err)
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.o.GetRefreshTokenSession(ctxB, "rt-1", nil); !errors.Is(err, fosite.ErrInactiveToken) || got == nil {
		t.Fatalf("right after rotation = %v, %v; want the request and ErrInactiveToken", got, err)
	}
	for _, at := range []string{"at-1", "at-other"} {
		if _, err := f.o.GetAccessTokenSession(ctxB, at, nil); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", at, err)
		}
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "at-2", nil); err != nil {
		t.Errorf("another grant's access token: %v", err)
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("rotating again: %v, want ErrNotFound", err)
	}
}

func TestOAuth2ConcurrentStrictRotationsOfOneTokenExactlyOneWins(t *testing.T) {
	f := newOAuth2(t, store.OAuth2Config{RefreshReuseInterval: 0})
	for i := range 10 {
		grant := "grant-" + string(rune('a'+i))
		refreshGrant(t, f.o, grant, "rt-"+grant, "at-"+grant)
		errs := race(t, f.o, func(ctx context.Context) error {
			if err := f.o.RotateRefreshToken(ctx, grant, "rt-"+grant); err != nil {
				return err
			}
			return f.o.CreateRefreshTokenSession(ctx, "next-"+grant+"-"+time.Now().String(), "", grantRequest(grant, "spa", "user-1"))
		})
		if winners(errs) != 1 {
			t.Fatalf("round %d: results %v, want exactly one nil", i, errs)
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, fosite.ErrNotFound) {
				t.Fatalf("the loser's error %v is not ErrNotFound (fosite: \"please retry\")", err)
			}
		}
	}
}

func TestOAuth2ConcurrentGracefulRotationsOfOneTokenBothWin(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	errs := race(t, f.o, func(ctx context.Context) error {
		return f.o.RotateRefreshToken(ctx, "grant-1", "rt-1")
	})
	if winners(errs) != 2 {
		t.Fatalf("results %v, want both nil: two tabs refreshing at once", errs)
	}
}

func TestOAuth2SerializationFailureIsFositesError(t *testing.T) {
	pgCfg, err := pgxpool.ParseConfig(storetest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	pgCfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "serializable"
	pool, err := pgxpool.NewWithConfig(ctxB, pgCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	o := store.NewOAuth2(st, &clientMap{m: map[string]fosite.Client{"spa": spaClient("spa")}},
		store.OAuth2Config{RefreshReuseInterval: 0})
	refreshGrant(t, o, "grant-1", "rt-1", "at-1")

	first, err := o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	second, err := o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.GetRefreshTokenSession(second, "rt-1", nil); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	if err := o.RotateRefreshToken(first, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(first); err != nil {
		t.Fatal(err)
	}
	err = o.RotateRefreshToken(second, "grant-1", "rt-1")
	if !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("err = %v, want ErrSerializationFailure", err)
	}
	if err := o.Rollback(second); err != nil {
		t.Fatal(err)
	}
}

func TestOAuth2RevokeRemovesTheWholeGrantOnly(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	refreshGrant(t, f.o, "grant-1", "rt-1b", "at-1b")
	refreshGrant(t, f.o, "grant-2", "rt-2", "at-2")

	if err := f.o.RevokeRefreshToken(ctxB, "grant-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.o.RevokeAccessToken(ctxB, "grant-1"); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{"rt-1", "rt-1b"} {
		if _, err := f.o.GetRefreshTokenSession(ctxB, rt, nil); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", rt, err)
		}
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "at-1b", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("at-1b: err = %v, want ErrNotFound", err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctxB, "rt-2", nil); err != nil {
		t.Errorf("another grant's refresh token: %v", err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "at-2", nil); err != nil {
		t.Errorf("another grant's access token: %v", err)
	}
	if err := f.o.RevokeRefreshToken(ctxB, "grant-1"); err != nil {
		t.Errorf("revoking a revoked grant: %v, want nil", err)
	}
}

func TestOAuth2RotationChainEndsAfterTheAbsoluteLifetime(t *testing.T) {
	f := newOAuth2(t, store.OAuth2Config{RefreshReuseInterval: time.Second, RefreshAbsoluteLifetime: time.Hour})
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")

	f.clock.Advance(50 * time.Minute)
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	refreshGrant(t, f.o, "grant-1", "rt-2", "at-2")
	refreshGrant(t, f.o, "grant-2", "rt-other", "at-other") // starts its own chain now

	f.clock.Advance(9 * time.Minute)
	if _, err := f.o.GetRefreshTokenSession(ctxB, "rt-2", nil); err != nil {
		t.Fatalf("59 minutes into the chain: %v", err)
	}
	f.clock.Advance(time.Minute)
	for _, rt := range []string{"rt-2", "rt-1"} {
		got, err := f.o.GetRefreshTokenSession(ctxB, rt, nil)
		if !errors.Is(err, fosite.ErrNotFound) || errors.Is(err, fosite.ErrInactiveToken) || got != nil {
			t.Errorf("%s an hour into the chain = %v, %v; want nil, ErrNotFound (no reuse detection)", rt, got, err)
		}
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-2"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("rotating after the chain ended: %v, want ErrNotFound", err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctxB, "rt-other", nil); err != nil {
		t.Errorf("a later grant's chain: %v", err)
	}
}

func TestOAuth2Transactions(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	req := grantRequest("grant-1", "spa", "user-1")

	ctx, err := f.o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateAccessTokenSession(ctx, "rolled-back", req); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetAccessTokenSession(ctx, "rolled-back", nil); err != nil {
		t.Fatalf("the transaction does not see its own write: %v", err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "rolled-back", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("outside the transaction before commit: %v, want ErrNotFound", err)
	}
	if err := f.o.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "rolled-back", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("after rollback: %v, want ErrNotFound", err)
	}

	ctx, err = f.o.BeginTX(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.o.CreateAccessTokenSession(ctx, "committed", req); err != nil {
		t.Fatal(err)
	}
	if err := f.o.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.o.Rollback(ctx); err != nil {
		t.Fatalf("rollback after commit (fosite does so after a failed commit): %v", err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "committed", nil); err != nil {
		t.Fatalf("after commit: %v", err)
	}

	if err := f.o.Commit(ctxB); err == nil {
		t.Error("commit without a transaction succeeded")
	}
	if err := f.o.Rollback(ctxB); err == nil {
		t.Error("rollback without a transaction succeeded")
	}
}

func TestOAuth2TransactionInsideInTxIsASavepoint(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	req := grantRequest("grant-1", "spa", "user-1")
	err := f.st.InTx(ctxB, func(ctx context.Context) error {
		inner, err := f.o.BeginTX(ctx)
		if err != nil {
			return err
		}
		if err := f.o.CreateAccessTokenSession(inner, "inner", req); err != nil {
			return err
		}
		if err := f.o.Rollback(inner); err != nil {
			return err
		}
		return f.o.CreateAccessTokenSession(ctx, "outer", req)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "inner", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("rolled back to the savepoint: %v, want ErrNotFound", err)
	}
	if _, err := f.o.GetAccessTokenSession(ctxB, "outer", nil); err != nil {
		t.Errorf("the outer transaction's write: %v", err)
	}
}

func TestOAuth2DeleteExpired(t *testing.T) {
	cfg := store.DefaultOAuth2Config()
	cfg.RefreshAbsoluteLifetime = time.Hour
	f := newOAuth2(t, cfg)
	expiring := func(grant string, d time.Duration) *fosite.Request {
		req := grantRequest(grant, "spa", "user-1")
		for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
			req.Session.SetExpiresAt(tt, t0.Add(d))
		}
		return req
	}
	for _, k := range tokenKinds(f.o) {
		if err := k.create(ctxB, "expired", expiring("grant-old", -time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := k.create(ctxB, "live", expiring("grant-new", time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// refresh tokens also go when their chain ends, or when rotated and expired
	f.clock.Advance(-2 * time.Hour)
	if err := f.o.CreateRefreshTokenSession(ctxB, "chain-ended", "", expiring("grant-ancient", 24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	if err := f.o.RotateRefreshToken(ctxB, "grant-old", "expired"); err != nil {
		t.Fatal(err)
	}

	if _, err := f.st.DeleteExpired(ctxB, t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, k := range tokenKinds(f.o) {
		if _, err := k.get(ctxB, "expired", nil); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("expired %s: err = %v, want ErrNotFound", k.name, err)
		}
		if _, err := k.get(ctxB, "live", nil); err != nil {
			t.Errorf("live %s: %v", k.name, err)
		}
	}
	var n int
	if err := f.st.Pool().QueryRow(ctxB, `select count(*) from oauth2_tokens where request_id = 'grant-ancient'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refresh tokens of an ended chain: %d left (%v), want 0", n, err)
	}
}

func TestDeletingAClientDeletesItsTokens(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	if err := f.st.CreateClient(ctxB, clients.Client{ID: "other", Name: "Other", Type: clients.SPA,
		Callbacks: []string{"https://other.example.com/cb"}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range tokenKinds(f.o) {
		if err := k.create(ctxB, "of-spa", grantRequest("grant-1", "spa", "user-1")); err != nil {
			t.Fatal(err)
		}
		if err := k.create(ctxB, "of-other", grantRequest("grant-2", "other", "user-1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.DeleteClient(ctxB, "other"); err != nil {
		t.Fatal(err)
	}
	for _, k := range tokenKinds(f.o) {
		if _, err := k.get(ctxB, "of-other", nil); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("%s of the deleted client: err = %v, want ErrNotFound", k.name, err)
		}
		if _, err := k.get(ctxB, "of-spa", nil); err != nil {
			t.Errorf("%s of another client: %v", k.name, err)
		}
	}
}

func TestOAuth2RefusesPrivateKeyJWTAssertions(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	if err := f.o.ClientAssertionJWTValid(ctxB, "jti-1"); err != nil {
		t.Errorf("unknown jti: %v, want nil", err)
	}
	if err := f.o.SetClientAssertionJWT(ctxB, "jti-1", t0.Add(time.Minute)); err == nil {
		t.Error("recording a jti succeeded; private_key_jwt must fail closed")
	}
}

// provider is a fosite provider for public SPA clients (notes 1.1) on the
// storage under test.
type provider struct {
	fosite.OAuth2Provider
	signer *jwt.DefaultSigner
}

func newProvider(t *testing.T, o *store.OAuth2) provider {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &fosite.Config{
		IDTokenIssuer:               "https://id.example.com",
		AccessTokenLifespan:         10 * time.Minute,
		RefreshTokenLifespan:        14 * 24 * time.Hour,
		AuthorizeCodeLifespan:       time.Minute,
		IDTokenLifespan:             10 * time.Minute,
		GlobalSecret:                secret,
		EnforcePKCEForPublicClients: true,
		ScopeStrategy:               fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:    fosite.ExactAudienceMatchingStrategy,
		RefreshTokenScopes:          []string{"offline_access"},
	}
	signer := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return key, nil }}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               compose.NewOAuth2HMACStrategy(cfg),
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: signer, Config: cfg},
		Signer:                     signer,
	}
	p := compose.Compose(cfg, o, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	return provider{OAuth2Provider: p, signer: signer}
}

const callback = "https://app.example.com/callback"

// authorize runs /authorize for client spa as user-1 with PKCE and returns
// the code from the redirect and the PKCE verifier.
func (p provider) authorize(t *testing.T) (code, verifier string) {
	t.Helper()
	v := make([]byte, 32)
	if _, err := rand.Read(v); err != nil {
		t.Fatal(err)
	}
	verifier = base64.RawURLEncoding.EncodeToString(v)
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {"spa"},
		"redirect_uri":          {callback},
		"scope":                 {"openid offline_access"},
		"state":                 {"state-123456"},
		"nonce":                 {"nonce-123456"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest(http.MethodGet, "https://id.example.com/authorize?"+q.Encode(), nil)
	ar, err := p.NewAuthorizeRequest(ctxB, r)
	if err != nil {
		t.Fatalf("authorize request: %v", err)
	}
	ar.GrantScope("openid")
	ar.GrantScope("offline_access")
	now := time.Now().UTC()
	sess := openid.NewDefaultSession()
	sess.Subject = "user-1"
	sess.Claims.Subject = "user-1"
	sess.Claims.AuthTime = now
	sess.Claims.RequestedAt = now
	sess.Claims.AuthenticationMethodsReferences = []string{"pwd", "sms", "mfa"}
	resp, err := p.NewAuthorizeResponse(ctxB, ar, sess)
	if err != nil {
		t.Fatalf("authorize response: %v", err)
	}
	rec := httptest.NewRecorder()
	p.WriteAuthorizeResponse(ctxB, rec, ar, resp)
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state-123456" {
		t.Fatalf("authorize redirect %d %q (%v): want a code and the state", rec.Code, rec.Header().Get("Location"), err)
	}
	return loc.Query().Get("code"), verifier
}

// token POSTs form to /token and returns the JSON answer.
func (p provider) token(t *testing.T, form url.Values) map[string]any {
	t.Helper()
	form.Set("client_id", "spa")
	r := httptest.NewRequest(http.MethodPost, "https://id.example.com/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	areq, err := p.NewAccessRequest(ctxB, r, openid.NewDefaultSession())
	if err == nil {
		var resp fosite.AccessResponder
		if resp, err = p.NewAccessResponse(ctxB, areq); err == nil {
			p.WriteAccessResponse(ctxB, rec, areq, resp)
		}
	}
	if err != nil {
		p.WriteAccessError(ctxB, rec, areq, err)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("token response %d %q: %v", rec.Code, rec.Body, err)
	}
	return body
}

func (p provider) exchange(t *testing.T, code, verifier string) map[string]any {
	t.Helper()
	return p.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}})
}

func (p provider) refresh(t *testing.T, rt any) map[string]any {
	t.Helper()
	s, _ := rt.(string)
	return p.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s}})
}

// issued checks that body carries tokens and an ID token for user-1 whose
// claims came through the stored session. The nonce comes from the stored
// authorize form, so only the code exchange has it.
func (p provider) issued(t *testing.T, step string, body map[string]any) {
	t.Helper()
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if s, _ := body[k].(string); s == "" {
			t.Fatalf("%s: no %s in %v", step, k, body)
		}
	}
	tok, err := p.signer.Decode(ctxB, body["id_token"].(string))
	if err != nil {
		t.Fatalf("%s: id token: %v", step, err)
	}
	claims := tok.Claims
	if claims["sub"] != "user-1" || !reflect.DeepEqual(claims["amr"], []any{"pwd", "sms", "mfa"}) {
		t.Fatalf("%s: id token claims %v, want sub user-1 and amr", step, claims)
	}
	if exchange := step == "code exchange"; exchange != (claims["nonce"] == "nonce-123456") {
		t.Fatalf("%s: id token nonce %v", step, claims["nonce"])
	}
}

func refused(t *testing.T, step string, body map[string]any, hint string) {
	t.Helper()
	desc, _ := body["error_description"].(string)
	if body["error"] != "invalid_grant" || !strings.Contains(desc, hint) {
		t.Fatalf("%s: %v, want invalid_grant saying %q", step, body, hint)
	}
}

func (f oauth2Fixture) count(t *testing.T, kinds ...string) int {
	t.Helper()
	var n int
	if err := f.st.Pool().QueryRow(ctxB, `select count(*) from oauth2_tokens where kind = any($1)`, kinds).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOAuth2WithFosite(t *testing.T) {
	cfg := store.DefaultOAuth2Config()
	cfg.RefreshReuseInterval = time.Minute
	f := newOAuth2(t, cfg)
	f.clock.base = time.Now // fosite checks expiry on the real clock
	p := newProvider(t, f.o)

	// A code redeemed twice: the second time is refused and revokes the grant.
	code, verifier := p.authorize(t)
	first := p.exchange(t, code, verifier)
	p.issued(t, "code exchange", first)
	if n := f.count(t, "pkce", "oidc"); n != 0 {
		t.Errorf("%d PKCE/OIDC rows left after the exchange, want 0", n)
	}
	var leaked int
	secrets := []string{code, first["access_token"].(string), first["refresh_token"].(string)}
	for _, s := range secrets {
		secrets = append(secrets, s[strings.LastIndex(s, ".")+1:]) // the signature fosite passes
	}
	if err := f.st.Pool().QueryRow(ctxB, `
		select count(*) from oauth2_tokens t, unnest($1::text[]) s where position(s in t::text) > 0`, secrets).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("%d rows hold a code, token or signature in clear (%v)", leaked, err)
	}
	refused(t, "replayed code", p.exchange(t, code, verifier), "already been used")
	refused(t, "refresh token of a replayed code", p.refresh(t, first["refresh_token"]), "not valid")
	if n := f.count(t, "access", "refresh"); n != 0 {
		t.Fatalf("%d tokens left of the revoked grant, want 0", n)
	}

	// Rotation: refresh twice, and a retry within the reuse interval works.
	code, verifier = p.authorize(t)
	a := p.exchange(t, code, verifier)
	p.issued(t, "code exchange", a)
	b := p.refresh(t, a["refresh_token"])
	p.issued(t, "first refresh", b)
	c := p.refresh(t, b["refresh_token"])
	p.issued(t, "second refresh", c)
	retry := p.refresh(t, b["refresh_token"])
	p.issued(t, "retried refresh within the reuse interval", retry)

	// Reusing a rotated token after the interval is theft: the grant goes.
	f.clock.Advance(2 * time.Minute)
	refused(t, "reused refresh token", p.refresh(t, a["refresh_token"]), "already used")
	for _, rt := range []any{c["refresh_token"], retry["refresh_token"]} {
		refused(t, "newest refresh token after reuse", p.refresh(t, rt), "not valid")
	}
	if n := f.count(t, "access", "refresh"); n != 0 {
		t.Fatalf("%d tokens left of the grant revoked for reuse, want 0", n)
	}

	// Revocation (RFC 7009) of the refresh token ends the grant.
	code, verifier = p.authorize(t)
	d := p.exchange(t, code, verifier)
	form := url.Values{"token": {d["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}, "client_id": {"spa"}}
	r := httptest.NewRequest(http.MethodPost, "https://id.example.com/oauth2/revoke", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := p.NewRevocationRequest(ctxB, r); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	refused(t, "revoked refresh token", p.refresh(t, d["refresh_token"]), "not valid")
	if n := f.count(t, "access", "refresh"); n != 0 {
		t.Fatalf("%d tokens left of the revoked grant, want 0", n)
	}

	// At the end of the rotation chain the token is refused, and that is not
	// taken for theft: nothing is revoked (the janitor removes it later).
	code, verifier = p.authorize(t)
	e := p.exchange(t, code, verifier)
	f.clock.Advance(store.DefaultRefreshAbsoluteLifetime)
	refused(t, "refresh token at the end of its chain", p.refresh(t, e["refresh_token"]), "not valid")
	if n := f.count(t, "access", "refresh"); n != 2 {
		t.Fatalf("%d tokens left of the ended grant, want its 2 untouched", n)
	}
}
