package store

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/ory/fosite"
)

// A refresh grant reads its client (with the API audiences and scopes) and
// then its refresh token, one round trip after the other. The token request
// names both from the start, so the token's row can come in the client's
// batch and wait in the request's context for fosite to ask for it. It is
// read at the same point of the request as before, outside any transaction:
// rotation and reuse detection decide on the row as the rotation finds it.

type tokenPrefetchKey struct{}

type tokenPrefetch struct {
	kind tokenKind
	key  string

	mu      sync.Mutex
	fetched bool // the row (or its absence) is in row/err
	used    bool
	row     requestRow
	err     error
}

// WithRefreshTokenPrefetch returns a context in which the next client load
// (ClientAndAudiences) also reads the refresh token stored under signature,
// and loading that token takes the row read then, once.
func WithRefreshTokenPrefetch(ctx context.Context, signature string) context.Context {
	if signature == "" {
		return ctx
	}
	return context.WithValue(ctx, tokenPrefetchKey{}, &tokenPrefetch{kind: kindRefresh, key: tokenKey(signature)})
}

// queue adds the token's read to b, unless it was read already.
func (p *tokenPrefetch) queue(b *pgx.Batch) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fetched {
		return false
	}
	b.Queue(selectTokenSQL, string(p.kind), p.key)
	return true
}

// fill keeps the queued read's row; an error other than no row keeps
// nothing, so that the token's load asks again.
func (p *tokenPrefetch) fill(row pgx.Row) {
	r, err := scanRequestRow(row)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = fosite.ErrNotFound
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetched, p.row, p.err = true, r, err
}

// take hands out the prefetched row of the token k stored under key, once.
func (p *tokenPrefetch) take(k tokenKind, key string) (requestRow, error, bool) {
	if p == nil {
		return requestRow{}, nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.fetched || p.used || p.kind != k || p.key != key {
		return requestRow{}, nil, false
	}
	p.used = true
	return p.row, p.err, true
}

func prefetchOf(ctx context.Context) *tokenPrefetch {
	p, _ := ctx.Value(tokenPrefetchKey{}).(*tokenPrefetch)
	return p
}
