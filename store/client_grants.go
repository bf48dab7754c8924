package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// APIScopes lists an API's scopes, ordered by value.
func (s *Store) APIScopes(ctx context.Context, apiID string) ([]clients.Scope, error) {
	if !account.IsUUID(apiID) {
		return nil, clients.ErrNotFound
	}
	rows, err := s.db(ctx).Query(ctx, `select value, description from api_scopes where api_id = $1 order by value`, apiID)
	if err != nil {
		return nil, fmt.Errorf("api scopes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clients.Scope, error) {
		var sc clients.Scope
		err := r.Scan(&sc.Value, &sc.Description)
		return sc, err
	})
}

// SetAPIScopes replaces an API's scopes in one transaction; grants keep only
// the scopes that still exist.
func (s *Store) SetAPIScopes(ctx context.Context, apiID string, scopes []clients.Scope) error {
	if !account.IsUUID(apiID) {
		return clients.ErrNotFound
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		var exists bool
		if err := s.db(ctx).QueryRow(ctx, `select exists (select 1 from apis where id = $1 for update)`, apiID).Scan(&exists); err != nil {
			return fmt.Errorf("set api scopes: %w", err)
		}
		if !exists {
			return clients.ErrNotFound
		}
		values := make([]string, len(scopes))
		descriptions := make([]string, len(scopes))
		for i, sc := range scopes {
			values[i], descriptions[i] = sc.Value, sc.Description
		}
		// Only the scopes that are gone are deleted: roles hold the others
		// as permissions, and would lose them with a delete of all.
		_, err := s.db(ctx).Exec(ctx, `delete from api_scopes where api_id = $1 and value <> all($2::text[])`, apiID, values)
		if err == nil {
			_, err = s.db(ctx).Exec(ctx, `
				insert into api_scopes (api_id, value, description)
				select $1, v, d from unnest($2::text[], $3::text[]) as t(v, d)
				on conflict (api_id, value) do update set description = excluded.description`, apiID, values, descriptions)
		}
		if err == nil {
			_, err = s.db(ctx).Exec(ctx, `
				update client_grants set scopes = array(select unnest(scopes) intersect select unnest($2::text[])), updated_at = now()
				where api_id = $1`, apiID, values)
		}
		if err != nil {
			return fmt.Errorf("set api scopes: %w", err)
		}
		return nil
	})
}

const grantColumns = `g.client_id, g.api_id::text, a.identifier, g.scopes`

func scanGrant(r pgx.Row) (clients.Grant, error) {
	var g clients.Grant
	err := r.Scan(&g.ClientID, &g.APIID, &g.Audience, &g.Scopes)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, clients.ErrNotFound
	}
	return g, err
}

// GrantsOf lists a client's grants, ordered by audience.
func (s *Store) GrantsOf(ctx context.Context, clientID string) ([]clients.Grant, error) {
	if !storableText(clientID) {
		return nil, nil
	}
	rows, err := s.db(ctx).Query(ctx, `select `+grantColumns+` from client_grants g join apis a on a.id = g.api_id
		where g.client_id = $1 order by a.identifier`, clientID)
	if err != nil {
		return nil, fmt.Errorf("grants of %s: %w", clientID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (clients.Grant, error) { return scanGrant(r) })
}

// GrantFor returns the client's grant for the API with this audience.
func (s *Store) GrantFor(ctx context.Context, clientID, audience string) (clients.Grant, error) {
	if !storableText(clientID) || !storableText(audience) {
		return clients.Grant{}, clients.ErrNotFound
	}
	g, err := scanGrant(s.db(ctx).QueryRow(ctx, `select `+grantColumns+` from client_grants g join apis a on a.id = g.api_id
		where g.client_id = $1 and a.identifier = $2`, clientID, audience))
	if err != nil && !errors.Is(err, clients.ErrNotFound) {
		return g, fmt.Errorf("grant for %s: %w", clientID, err)
	}
	return g, err
}

// SetGrant creates or replaces a grant.
func (s *Store) SetGrant(ctx context.Context, g clients.Grant) error {
	if !storableText(g.ClientID) || !account.IsUUID(g.APIID) {
		return clients.ErrNotFound
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into client_grants (client_id, api_id, scopes) values ($1, $2, $3)
		on conflict (client_id, api_id) do update set scopes = excluded.scopes, updated_at = now()`,
		g.ClientID, g.APIID, textArray(g.Scopes))
	if isForeignKeyViolation(err) {
		return clients.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set grant: %w", err)
	}
	return nil
}

// DeleteGrant removes a grant.
func (s *Store) DeleteGrant(ctx context.Context, clientID, apiID string) error {
	if !storableText(clientID) || !account.IsUUID(apiID) {
		return clients.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from client_grants where client_id = $1 and api_id = $2`, clientID, apiID)
	if err != nil {
		return fmt.Errorf("delete grant: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clients.ErrNotFound
	}
	return nil
}
