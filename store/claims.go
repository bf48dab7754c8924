package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/claims"
)

// ClientClaims lists an application's custom claims in the order set.
func (s *Store) ClientClaims(ctx context.Context, clientID string) ([]claims.Mapping, error) {
	if !storableText(clientID) {
		return nil, nil
	}
	rows, err := s.db(ctx).Query(ctx, `select claim, source, target from client_claims where client_id = $1 order by position`, clientID)
	if err != nil {
		return nil, fmt.Errorf("client claims: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (claims.Mapping, error) {
		var m claims.Mapping
		err := r.Scan(&m.Claim, &m.Source, &m.Target)
		return m, err
	})
}

// SetClientClaims replaces an application's custom claims in one
// transaction.
func (s *Store) SetClientClaims(ctx context.Context, clientID string, ms []claims.Mapping) error {
	if !storableText(clientID) {
		return claims.ErrNotFound
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		var exists bool
		if err := s.db(ctx).QueryRow(ctx, `select exists (select 1 from oauth_clients where id = $1 for update)`, clientID).Scan(&exists); err != nil {
			return fmt.Errorf("set client claims: %w", err)
		}
		if !exists {
			return claims.ErrNotFound
		}
		if _, err := s.db(ctx).Exec(ctx, `delete from client_claims where client_id = $1`, clientID); err != nil {
			return fmt.Errorf("set client claims: %w", err)
		}
		for i, m := range ms {
			if _, err := s.db(ctx).Exec(ctx, `insert into client_claims (client_id, claim, source, target, position) values ($1, $2, $3, $4, $5)`,
				clientID, m.Claim, m.Source, string(m.Target), i); err != nil {
				return fmt.Errorf("set client claims: %w", err)
			}
		}
		return nil
	})
}
