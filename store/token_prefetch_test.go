package store_test

import (
	"errors"
	"testing"

	"github.com/ory/fosite"

	"github.com/gatehouse-id/gatehouse/store"
)

// A refresh token read with its client serves one load of that token; the
// next load reads the row again, so a rotation in between is seen.
func TestAPrefetchedRefreshTokenServesOneLoadOnly(t *testing.T) {
	f := newOAuth2(t, store.OAuth2Config{RefreshReuseInterval: 0})
	if err := f.st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	ctx := store.WithRefreshTokenPrefetch(ctxB, "rt-1")
	if _, _, _, err := f.st.ClientAndAudiences(ctx, webClient().ID); err != nil {
		t.Fatal(err)
	}
	if err := f.o.RotateRefreshToken(ctxB, "grant-1", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctx, "rt-1", nil); err != nil {
		t.Fatalf("first load, from the client's batch (before the rotation): %v", err)
	}
	if _, err := f.o.GetRefreshTokenSession(ctx, "rt-1", nil); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("second load: %v, want ErrInactiveToken (read again, rotated)", err)
	}
}

// A prefetch serves only the token it names, and an unknown token is not
// found, as without it.
func TestAPrefetchServesOnlyItsToken(t *testing.T) {
	f := newOAuth2(t, store.DefaultOAuth2Config())
	if err := f.st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	refreshGrant(t, f.o, "grant-1", "rt-1", "at-1")
	refreshGrant(t, f.o, "grant-2", "rt-2", "at-2")
	unknown := store.WithRefreshTokenPrefetch(ctxB, "no-such-token")
	if _, _, _, err := f.st.ClientAndAudiences(unknown, webClient().ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.GetRefreshTokenSession(unknown, "no-such-token", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
	ctx := store.WithRefreshTokenPrefetch(ctxB, "rt-1")
	if _, _, _, err := f.st.ClientAndAudiences(ctx, webClient().ID); err != nil {
		t.Fatal(err)
	}
	got, err := f.o.GetRefreshTokenSession(ctx, "rt-2", nil)
	if err != nil || got.GetID() != "grant-2" {
		t.Fatalf("another token in a prefetching context = %v, %v; want grant-2's", got, err)
	}
}
