package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

// UserLanguage is the language tag the user chose on the account page, ""
// when they chose none; account.ErrNotFound for an unknown user.
func (s *Store) UserLanguage(ctx context.Context, userID string) (string, error) {
	if !account.IsUUID(userID) {
		return "", account.ErrNotFound
	}
	var lang *string
	err := s.db(ctx).QueryRow(ctx, `select language from users where id = $1`, userID).Scan(&lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", account.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("user language: %w", err)
	}
	if lang == nil {
		return "", nil
	}
	return *lang, nil
}

// SetUserLanguage records the user's chosen language tag; "" clears it. The
// caller checks that Gatehouse speaks it.
func (s *Store) SetUserLanguage(ctx context.Context, userID, lang string) error {
	if !account.IsUUID(userID) {
		return account.ErrNotFound
	}
	var v *string
	if lang != "" {
		v = &lang
	}
	tag, err := s.db(ctx).Exec(ctx, `update users set language = $2, updated_at = now() where id = $1`, userID, v)
	if err != nil {
		return fmt.Errorf("set user language: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}
