package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrSettingNotFound means the setting was never set; callers use their default.
var ErrSettingNotFound = errors.New("setting not set")

// Setting reads one tenant setting.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db(ctx).QueryRow(ctx, `select value from settings where key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrSettingNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting writes one tenant setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into settings (key, value, updated_at) values ($1, $2, now())
		on conflict (key) do update set value = excluded.value, updated_at = now()`, key, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}
