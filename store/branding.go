package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/clients"
)

// Branding returns an application's brand without its logo's bytes.
func (s *Store) Branding(ctx context.Context, clientID string) (branding.Brand, error) {
	b := branding.Brand{ClientID: clientID}
	if !storableText(clientID) {
		return b, branding.ErrNotFound
	}
	err := s.db(ctx).QueryRow(ctx, `
		select name, logo_url, primary_color, background_color, logo_type, logo_sum, updated_at
		from client_branding where client_id = $1`, clientID).
		Scan(&b.Name, &b.LogoURL, &b.Primary, &b.Background, &b.LogoType, &b.LogoSum, &b.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, branding.ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("branding of %s: %w", clientID, err)
	}
	return b, nil
}

// ApplicationLook reads what a hosted page of a login shows of its
// application, the application's name and its brand, in one statement;
// clients.ErrNotFound when there is no such application, branding.ErrNotFound
// (with the name) when it has no brand of its own.
func (s *Store) ApplicationLook(ctx context.Context, clientID string) (string, branding.Brand, error) {
	b := branding.Brand{ClientID: clientID}
	if !storableText(clientID) {
		return "", b, clients.ErrNotFound
	}
	var name string
	var branded bool
	var updated *time.Time
	err := s.db(ctx).QueryRow(ctx, `
		select c.name, b.client_id is not null, coalesce(b.name, ''), coalesce(b.logo_url, ''),
			coalesce(b.primary_color, ''), coalesce(b.background_color, ''), coalesce(b.logo_type, ''),
			coalesce(b.logo_sum, ''), b.updated_at
		from oauth_clients c left join client_branding b on b.client_id = c.id
		where c.id = $1`, clientID).
		Scan(&name, &branded, &b.Name, &b.LogoURL, &b.Primary, &b.Background, &b.LogoType, &b.LogoSum, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", b, clients.ErrNotFound
	}
	if err != nil {
		return "", b, fmt.Errorf("look of %s: %w", clientID, err)
	}
	if !branded {
		return name, b, branding.ErrNotFound
	}
	b.UpdatedAt = *updated
	return name, b, nil
}

// SaveBranding writes a brand's text fields. A logo URL replaces an
// uploaded logo in the same statement; without one the upload is kept.
func (s *Store) SaveBranding(ctx context.Context, b branding.Brand) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into client_branding (client_id, name, logo_url, primary_color, background_color, updated_at)
		values ($1, $2, $3, $4, $5, $6)
		on conflict (client_id) do update set name = excluded.name, logo_url = excluded.logo_url,
			primary_color = excluded.primary_color, background_color = excluded.background_color,
			updated_at = excluded.updated_at,
			logo_type = case when excluded.logo_url = '' then client_branding.logo_type else '' end,
			logo_sum = case when excluded.logo_url = '' then client_branding.logo_sum else '' end,
			logo = case when excluded.logo_url = '' then client_branding.logo end`,
		b.ClientID, b.Name, b.LogoURL, b.Primary, b.Background, b.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save branding of %s: %w", b.ClientID, err)
	}
	return nil
}

// SetLogo stores an uploaded logo in place of any logo link.
func (s *Store) SetLogo(ctx context.Context, clientID string, img branding.Image, sum string, at time.Time) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into client_branding (client_id, logo_type, logo_sum, logo, updated_at)
		values ($1, $2, $3, $4, $5)
		on conflict (client_id) do update set logo_url = '', logo_type = excluded.logo_type,
			logo_sum = excluded.logo_sum, logo = excluded.logo, updated_at = excluded.updated_at`,
		clientID, img.Type, sum, img.Data, at)
	if err != nil {
		return fmt.Errorf("store logo of %s: %w", clientID, err)
	}
	return nil
}

// DeleteLogo removes an uploaded logo.
func (s *Store) DeleteLogo(ctx context.Context, clientID string, at time.Time) error {
	tag, err := s.db(ctx).Exec(ctx, `
		update client_branding set logo_type = '', logo_sum = '', logo = null, updated_at = $2
		where client_id = $1 and logo is not null`, clientID, at)
	if err != nil {
		return fmt.Errorf("delete logo of %s: %w", clientID, err)
	}
	if tag.RowsAffected() == 0 {
		return branding.ErrNotFound
	}
	return nil
}

// Logo returns an uploaded logo and its sum.
func (s *Store) Logo(ctx context.Context, clientID string) (branding.Image, string, error) {
	var img branding.Image
	var sum string
	if !storableText(clientID) {
		return img, "", branding.ErrNotFound
	}
	err := s.db(ctx).QueryRow(ctx, `
		select logo_type, logo, logo_sum from client_branding where client_id = $1 and logo is not null`, clientID).
		Scan(&img.Type, &img.Data, &sum)
	if errors.Is(err, pgx.ErrNoRows) {
		return img, "", branding.ErrNotFound
	}
	if err != nil {
		return img, "", fmt.Errorf("logo of %s: %w", clientID, err)
	}
	return img, sum, nil
}
