package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/clients"
)

const clientColumns = `id, name, type, secret_hash, callbacks, logout_urls, web_origins, mfa_policy,
	id_token_lifetime_seconds, refresh_idle_lifetime_seconds, refresh_absolute_lifetime_seconds, created_at, updated_at`

func scanClient(row pgx.Row) (clients.Client, error) {
	var c clients.Client
	var typ string
	var idToken, refreshIdle, refreshAbsolute *int64
	err := row.Scan(&c.ID, &c.Name, &typ, &c.SecretHash, &c.Callbacks, &c.LogoutURLs, &c.WebOrigins, &c.MFAPolicy,
		&idToken, &refreshIdle, &refreshAbsolute, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return clients.Client{}, clients.ErrNotFound
	}
	if err != nil {
		return clients.Client{}, err
	}
	c.Type = clients.Type(typ)
	c.Lifetimes = clients.Lifetimes{IDToken: fromSeconds(idToken), RefreshIdle: fromSeconds(refreshIdle),
		RefreshAbsolute: fromSeconds(refreshAbsolute)}
	c.Callbacks, c.LogoutURLs, c.WebOrigins = nilIfEmpty(c.Callbacks), nilIfEmpty(c.LogoutURLs), nilIfEmpty(c.WebOrigins)
	return c, nil
}

func (s *Store) CreateClient(ctx context.Context, c clients.Client) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into oauth_clients (`+clientColumns+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12, now()), coalesce($13, $12, now()))`,
		c.ID, c.Name, string(c.Type), c.SecretHash, textArray(c.Callbacks), textArray(c.LogoutURLs), textArray(c.WebOrigins),
		c.MFAPolicy, toSeconds(c.Lifetimes.IDToken), toSeconds(c.Lifetimes.RefreshIdle), toSeconds(c.Lifetimes.RefreshAbsolute),
		nullTime(c.CreatedAt), nullTime(c.UpdatedAt))
	if isUniqueViolation(err) {
		return clients.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("insert client: %w", err)
	}
	return nil
}

func (s *Store) ClientByID(ctx context.Context, id string) (clients.Client, error) {
	if !storableText(id) {
		return clients.Client{}, clients.ErrNotFound
	}
	c, err := scanClient(s.db(ctx).QueryRow(ctx, `select `+clientColumns+` from oauth_clients where id = $1`, id))
	if err != nil && !errors.Is(err, clients.ErrNotFound) {
		return c, fmt.Errorf("client by id: %w", err)
	}
	return c, err
}

func (s *Store) ListClients(ctx context.Context) ([]clients.Client, error) {
	rows, err := s.db(ctx).Query(ctx, `select `+clientColumns+` from oauth_clients order by name, id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clients.Client, error) { return scanClient(r) })
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return list, nil
}

func (s *Store) UpdateClient(ctx context.Context, c clients.Client) error {
	if !storableText(c.ID) {
		return clients.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `
		update oauth_clients
		set name = $2, type = $3, secret_hash = $4, callbacks = $5, logout_urls = $6, web_origins = $7, mfa_policy = $8,
			id_token_lifetime_seconds = $9, refresh_idle_lifetime_seconds = $10, refresh_absolute_lifetime_seconds = $11,
			updated_at = now()
		where id = $1`,
		c.ID, c.Name, string(c.Type), c.SecretHash, textArray(c.Callbacks), textArray(c.LogoutURLs), textArray(c.WebOrigins), c.MFAPolicy,
		toSeconds(c.Lifetimes.IDToken), toSeconds(c.Lifetimes.RefreshIdle), toSeconds(c.Lifetimes.RefreshAbsolute))
	if err != nil {
		return fmt.Errorf("update client: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clients.ErrNotFound
	}
	return nil
}

func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !storableText(id) {
		return clients.ErrNotFound
	}
	// The client's codes and tokens go with it: nothing it was issued may
	// outlive it.
	return s.InTx(ctx, func(ctx context.Context) error {
		tag, err := s.db(ctx).Exec(ctx, `delete from oauth_clients where id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete client: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return clients.ErrNotFound
		}
		return s.deleteClientTokens(ctx, id)
	})
}

const apiColumns = `id::text, identifier, name, token_lifetime_seconds, created_at`

func scanAPI(row pgx.Row) (clients.API, error) {
	var a clients.API
	var seconds int64
	err := row.Scan(&a.ID, &a.Identifier, &a.Name, &seconds, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return clients.API{}, clients.ErrNotFound
	}
	if err != nil {
		return clients.API{}, err
	}
	a.TokenLifetime = time.Duration(seconds) * time.Second
	return a, nil
}

// CreateAPI stores the token lifetime in whole seconds, rounding down.
func (s *Store) CreateAPI(ctx context.Context, a clients.API) (clients.API, error) {
	created, err := scanAPI(s.db(ctx).QueryRow(ctx, `
		insert into apis (identifier, name, token_lifetime_seconds, created_at)
		values ($1, $2, $3, coalesce($4, now()))
		returning `+apiColumns,
		a.Identifier, a.Name, int64(a.TokenLifetime/time.Second), nullTime(a.CreatedAt)))
	if isUniqueViolation(err) {
		return clients.API{}, clients.ErrDuplicate
	}
	if err != nil {
		return clients.API{}, fmt.Errorf("insert api: %w", err)
	}
	return created, nil
}

func (s *Store) APIByIdentifier(ctx context.Context, identifier string) (clients.API, error) {
	if !storableText(identifier) {
		return clients.API{}, clients.ErrNotFound
	}
	a, err := scanAPI(s.db(ctx).QueryRow(ctx, `select `+apiColumns+` from apis where identifier = $1`, identifier))
	if err != nil && !errors.Is(err, clients.ErrNotFound) {
		return a, fmt.Errorf("api by identifier: %w", err)
	}
	return a, err
}

func (s *Store) APIByID(ctx context.Context, id string) (clients.API, error) {
	if !storableText(id) {
		return clients.API{}, clients.ErrNotFound
	}
	// Compared as text, so an id that is no uuid names nothing.
	a, err := scanAPI(s.db(ctx).QueryRow(ctx, `select `+apiColumns+` from apis where id::text = $1`, id))
	if err != nil && !errors.Is(err, clients.ErrNotFound) {
		return a, fmt.Errorf("api by id: %w", err)
	}
	return a, err
}

// UpdateAPI stores the token lifetime in whole seconds, rounding down.
func (s *Store) UpdateAPI(ctx context.Context, a clients.API) error {
	if !storableText(a.ID) {
		return clients.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `update apis set name = $2, token_lifetime_seconds = $3 where id::text = $1`,
		a.ID, a.Name, int64(a.TokenLifetime/time.Second))
	if err != nil {
		return fmt.Errorf("update api: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clients.ErrNotFound
	}
	return nil
}

func (s *Store) ListAPIs(ctx context.Context) ([]clients.API, error) {
	rows, err := s.db(ctx).Query(ctx, `select `+apiColumns+` from apis order by identifier`)
	if err != nil {
		return nil, fmt.Errorf("list apis: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clients.API, error) { return scanAPI(r) })
	if err != nil {
		return nil, fmt.Errorf("list apis: %w", err)
	}
	return list, nil
}

func (s *Store) DeleteAPI(ctx context.Context, identifier string) error {
	if !storableText(identifier) {
		return clients.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from apis where identifier = $1`, identifier)
	if err != nil {
		return fmt.Errorf("delete api: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clients.ErrNotFound
	}
	return nil
}

// storableText tells whether s can be a text key at all. Postgres refuses
// invalid UTF-8 and NUL bytes; such a client_id or audience from a request
// names nothing, rather than becoming a server error.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// textArray stores a nil list as an empty array, not SQL null.
func textArray(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// toSeconds stores an unset (zero) lifetime as SQL null.
func toSeconds(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	n := int64(d / time.Second)
	return &n
}

func fromSeconds(n *int64) time.Duration {
	if n == nil {
		return 0
	}
	return time.Duration(*n) * time.Second
}

// nilIfEmpty reads an empty array back as nil, Go's empty list.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
