package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/clients"
)

// ClientAndAudiences reads a client, the identifiers of every registered
// API (the audiences any client may ask for) and every scope the APIs
// define (what a user-facing client may ask for) in one round trip: the
// token endpoint and the authorization endpoint need them for every request.
// A refresh token the context asks for (WithRefreshTokenPrefetch) comes in
// the same round trip.
func (s *Store) ClientAndAudiences(ctx context.Context, id string) (c clients.Client, audiences, apiScopes []string, err error) {
	if !storableText(id) {
		return clients.Client{}, nil, nil, clients.ErrNotFound
	}
	b := &pgx.Batch{}
	b.Queue(`select `+clientColumns+` from oauth_clients where id = $1`, id)
	b.Queue(`select coalesce(array_agg(identifier order by identifier), '{}') from apis`)
	b.Queue(`select coalesce(array_agg(distinct value), '{}') from api_scopes`)
	prefetch := prefetchOf(ctx)
	prefetching := prefetch.queue(b)
	br := s.db(ctx).SendBatch(ctx, b)
	c, err = scanClient(br.QueryRow())
	if err == nil {
		err = br.QueryRow().Scan(&audiences)
	}
	if err == nil {
		err = br.QueryRow().Scan(&apiScopes)
	}
	if err == nil && prefetching {
		prefetch.fill(br.QueryRow())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, clients.ErrNotFound) {
		return clients.Client{}, nil, nil, err
	}
	if err != nil {
		return clients.Client{}, nil, nil, fmt.Errorf("client and audiences: %w", err)
	}
	return c, audiences, apiScopes, nil
}
