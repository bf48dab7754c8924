package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/clients"
)

// ClientAndAudiences reads a client and the identifiers of every registered
// API (the audiences any client may ask for) in one round trip: the token
// endpoint and the authorization endpoint need both for every request.
func (s *Store) ClientAndAudiences(ctx context.Context, id string) (clients.Client, []string, error) {
	if !storableText(id) {
		return clients.Client{}, nil, clients.ErrNotFound
	}
	b := &pgx.Batch{}
	b.Queue(`select `+clientColumns+` from oauth_clients where id = $1`, id)
	b.Queue(`select coalesce(array_agg(identifier order by identifier), '{}') from apis`)
	br := s.db(ctx).SendBatch(ctx, b)
	c, err := scanClient(br.QueryRow())
	var audiences []string
	if err == nil {
		err = br.QueryRow().Scan(&audiences)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, clients.ErrNotFound) {
		return clients.Client{}, nil, err
	}
	if err != nil {
		return clients.Client{}, nil, fmt.Errorf("client and audiences: %w", err)
	}
	return c, audiences, nil
}
