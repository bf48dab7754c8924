package store

import (
	"context"
	"time"
)

// TakeJanitorLease lets tests hold the janitor's lease as another replica's
// pass would: renew and release are that pass's.
func TakeJanitorLease(s *Store, ctx context.Context, ttl time.Duration) (renew func(context.Context) error, release func(), ok bool, err error) {
	l, ok, err := s.takeJanitorLease(ctx, ttl)
	if err != nil || !ok {
		return nil, nil, ok, err
	}
	return l.renew, func() { l.release(ctx) }, true, nil
}

// Exec runs sql in the transaction of ctx, if any, as store methods do.
func Exec(s *Store, ctx context.Context, sql string) error {
	_, err := s.db(ctx).Exec(ctx, sql)
	return err
}
