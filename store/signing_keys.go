package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-id/gatehouse/keys"
)

// signingKeysLock is the transaction-level advisory lock that makes replicas
// take turns initialising and rotating keys ("gatekeys" in ASCII).
const signingKeysLock int64 = 0x676174656b657973

func (s *Store) SigningKeys(ctx context.Context) ([]keys.Sealed, error) {
	rows, err := s.db(ctx).Query(ctx, `
		select kid, state, ciphertext, created_at, activated_at, retired_at
		from signing_keys order by created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	var out []keys.Sealed
	for rows.Next() {
		var k keys.Sealed
		var state string
		var activated, retired *time.Time
		if err := rows.Scan(&k.ID, &state, &k.Ciphertext, &k.CreatedAt, &activated, &retired); err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		k.State = keys.State(state)
		if activated != nil {
			k.ActivatedAt = *activated
		}
		if retired != nil {
			k.RetiredAt = *retired
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return out, nil
}

func (s *Store) InitSigningKeys(ctx context.Context, current, next keys.Sealed) (bool, error) {
	stored := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockSigningKeys(ctx); err != nil {
			return err
		}
		var exists bool
		if err := s.db(ctx).QueryRow(ctx, `select exists (select 1 from signing_keys)`).Scan(&exists); err != nil {
			return fmt.Errorf("count signing keys: %w", err)
		}
		if exists {
			return nil
		}
		if current.ActivatedAt.IsZero() {
			current.ActivatedAt = current.CreatedAt
		}
		current.State, current.RetiredAt = keys.Current, time.Time{}
		next.State, next.ActivatedAt, next.RetiredAt = keys.Next, time.Time{}, time.Time{}
		for _, k := range []keys.Sealed{current, next} {
			if err := s.insertSigningKey(ctx, k); err != nil {
				return err
			}
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return stored, nil
}

func (s *Store) RotateSigningKeys(ctx context.Context, newNext keys.Sealed, now time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockSigningKeys(ctx); err != nil {
			return err
		}
		// In this order: each partial unique index allows one row per state
		// at every step.
		if _, err := s.db(ctx).Exec(ctx, `
			update signing_keys set state = 'retired', retired_at = $1 where state = 'current'`, now); err != nil {
			return fmt.Errorf("retire current signing key: %w", err)
		}
		tag, err := s.db(ctx).Exec(ctx, `
			update signing_keys set state = 'current', activated_at = $1 where state = 'next'`, now)
		if err != nil {
			return fmt.Errorf("activate next signing key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return keys.ErrNoNextKey
		}
		newNext.State, newNext.ActivatedAt, newNext.RetiredAt = keys.Next, time.Time{}, time.Time{}
		if newNext.CreatedAt.IsZero() {
			newNext.CreatedAt = now
		}
		return s.insertSigningKey(ctx, newNext)
	})
}

func (s *Store) PurgeSigningKeys(ctx context.Context, retiredBefore time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `
		delete from signing_keys where state = 'retired' and retired_at < $1`, retiredBefore)
	if err != nil {
		return 0, fmt.Errorf("purge signing keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (s *Store) lockSigningKeys(ctx context.Context) error {
	if _, err := s.db(ctx).Exec(ctx, `select pg_advisory_xact_lock($1)`, signingKeysLock); err != nil {
		return fmt.Errorf("lock signing keys: %w", err)
	}
	return nil
}

func (s *Store) insertSigningKey(ctx context.Context, k keys.Sealed) error {
	_, err := s.db(ctx).Exec(ctx, `
		insert into signing_keys (kid, state, ciphertext, created_at, activated_at, retired_at)
		values ($1, $2, $3, $4, $5, $6)`,
		k.ID, string(k.State), k.Ciphertext, k.CreatedAt, nullTime(k.ActivatedAt), nullTime(k.RetiredAt))
	if err != nil {
		return fmt.Errorf("insert signing key %s: %w", k.ID, err)
	}
	return nil
}
