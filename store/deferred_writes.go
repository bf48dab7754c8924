package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Deferred writes: the authorization endpoint stores a new code's three rows
// (the code, its PKCE challenge, its OpenID Connect session), one fosite
// handler after the other, and reads none of them back before it answers;
// a password login records the login on the user, its audit row and the new
// session. Queued in the request's context and sent together as one batch
// before the answer leaves, they cost one round trip instead of three, and
// are stored all or none.

type deferredKey struct{}

type deferredWrites struct {
	mu    sync.Mutex
	batch pgx.Batch
}

// WithDeferredWrites returns a context in which the OAuth2 storage's inserts,
// RecordLogin, Record (audit) and CreateSession, outside a transaction, queue
// their statement instead of sending it; FlushWrites sends them. Only for
// requests that read none of them back before the flush, and flush on every
// path.
func WithDeferredWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferredKey{}, &deferredWrites{})
}

// deferWrite queues a statement when ctx defers writes and has no transaction.
func deferWrite(ctx context.Context, sql string, args ...any) bool {
	d, ok := ctx.Value(deferredKey{}).(*deferredWrites)
	if !ok {
		return false
	}
	if inTransaction(ctx) {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.batch.Queue(sql, args...)
	return true
}

// FlushWrites sends the writes queued in ctx in one round trip, all or none.
// Flushing nothing, or a context without deferred writes, does nothing.
func (s *Store) FlushWrites(ctx context.Context) error {
	d, ok := ctx.Value(deferredKey{}).(*deferredWrites)
	if !ok {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.batch.Len() == 0 {
		return nil
	}
	b := d.batch
	d.batch = pgx.Batch{}
	if err := s.sendAtomic(ctx, &b); err != nil {
		return oauth2DBError("send deferred writes", err)
	}
	return nil
}
