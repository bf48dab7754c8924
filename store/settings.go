package store

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// SetSetting writes one tenant setting and keeps the change in its history,
// naming who made it.
func (s *Store) SetSetting(ctx context.Context, key, value, changedBy string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db(ctx).Exec(ctx, `
			insert into settings (key, value, updated_at) values ($1, $2, now())
			on conflict (key) do update set value = excluded.value, updated_at = now()`, key, value)
		if err == nil {
			_, err = s.db(ctx).Exec(ctx, `insert into settings_history (key, value, changed_by) values ($1, $2, $3)`,
				key, value, changedBy)
		}
		if err != nil {
			return fmt.Errorf("write setting %s: %w", key, err)
		}
		return nil
	})
}

// AllSettings reads every tenant setting in one query.
func (s *Store) AllSettings(ctx context.Context) (map[string]string, error) {
	rows, err := s.db(ctx).Query(ctx, `select key, value from settings`)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	out := map[string]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return out, nil
}

// SetSettings writes set and removes unset in one transaction, each change
// kept in the history (a removal as an empty value) with who made it.
func (s *Store) SetSettings(ctx context.Context, set map[string]string, unset []string, changedBy string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for k, v := range set {
			if err := s.SetSetting(ctx, k, v, changedBy); err != nil {
				return err
			}
		}
		for _, k := range unset {
			_, err := s.db(ctx).Exec(ctx, `delete from settings where key = $1`, k)
			if err == nil {
				_, err = s.db(ctx).Exec(ctx, `insert into settings_history (key, value, changed_by) values ($1, '', $2)`, k, changedBy)
			}
			if err != nil {
				return fmt.Errorf("unset setting %s: %w", k, err)
			}
		}
		return nil
	})
}

// SettingChange is one entry of a setting's history.
type SettingChange struct {
	Value, ChangedBy string
	ChangedAt        time.Time
}

// SettingHistory lists a setting's changes, newest first.
func (s *Store) SettingHistory(ctx context.Context, key string, limit int) ([]SettingChange, error) {
	rows, err := s.db(ctx).Query(ctx, `
		select value, changed_by, changed_at from settings_history where key = $1
		order by changed_at desc, id desc limit $2`, key, limit)
	if err != nil {
		return nil, fmt.Errorf("setting history %s: %w", key, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SettingChange, error) {
		var c SettingChange
		err := r.Scan(&c.Value, &c.ChangedBy, &c.ChangedAt)
		return c, err
	})
}
