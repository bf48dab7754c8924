package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The transactions fosite opens (a refresh's rotation and its new tokens, a
// code's redemption and its tokens, the revocation of a reused refresh
// token's grant) only write, and read nothing back before they commit. So
// BeginTX opens nothing in Postgres: the writes are queued and Commit sends
// them as one batch, which Postgres runs as one implicit transaction, all or
// none. One round trip instead of begin, one per write, and commit, and no
// locks held while the replica signs tokens between the writes.
//
// A write that must find its row (a rotation, a code's redemption) cannot be
// checked by the caller before the next write of the batch runs, so its
// statement fails when it finds none (see isNotFound), and the batch with it.
//
// The first read in such a transaction (fosite makes none) begins it in
// Postgres and sends the writes queued so far: a transaction always sees its
// own writes.

type pendingTxKey struct{}

type pendingTx struct {
	pool  *pgxpool.Pool
	mu    sync.Mutex
	batch pgx.Batch
	ops   []pendingOp
	tx    pgx.Tx // begun by the first read; nil until then
	ended bool
	// The refresh token each grant's rotation rotated (request id to key):
	// the grant's new refresh token copies its chain's end from that row.
	rotations map[string]string
}

// pendingOp names a queued statement for its error, and says what its
// finding no row means (nil: the statement cannot fail that way).
type pendingOp struct {
	what     string
	notFound error
}

// A statement that must act on a row ends in "select 1 / count(*)" from the
// rows it acted on: with none it divides by zero, which fails the statement,
// and a batch with it, in Postgres itself. isNotFound recognises that error.
func isNotFound(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22012" // division_by_zero
}

// BeginTX implements storage.Transactional; store methods called with the
// returned ctx join the transaction. Inside a transaction already it opens
// a savepoint.
func (o *OAuth2) BeginTX(ctx context.Context) (context.Context, error) {
	outer, ok, err := o.st.tx(ctx)
	if err != nil {
		return ctx, oauth2DBError("begin transaction", err)
	}
	if ok {
		tx, err := outer.Begin(ctx)
		if err != nil {
			return ctx, oauth2DBError("begin transaction", err)
		}
		return context.WithValue(ctx, txKey{}, tx), nil
	}
	return context.WithValue(ctx, pendingTxKey{}, &pendingTx{pool: o.st.pool}), nil
}

var errNoTx = errors.New("store: no transaction in context (BeginTX was not called with it)")

// Commit implements storage.Transactional. The queued writes fail here if
// they fail at all, with the error their statement would have returned.
func (o *OAuth2) Commit(ctx context.Context) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		if err := tx.Commit(ctx); err != nil {
			return oauth2DBError("commit", err)
		}
		return nil
	}
	p := pendingOf(ctx)
	if p == nil {
		return fmt.Errorf("commit: %w", errNoTx)
	}
	return p.commit(ctx)
}

// Rollback implements storage.Transactional. Rolling back a transaction that
// already ended (fosite rolls back after a failed commit) is not an error.
func (o *OAuth2) Rollback(ctx context.Context) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
			return oauth2DBError("rollback", err)
		}
		return nil
	}
	p := pendingOf(ctx)
	if p == nil {
		return fmt.Errorf("rollback: %w", errNoTx)
	}
	return p.rollback(ctx)
}

// inTransaction reports whether ctx holds a transaction, pending or begun.
func inTransaction(ctx context.Context) bool {
	_, inTx := ctx.Value(txKey{}).(pgx.Tx)
	return inTx || pendingOf(ctx) != nil
}

func pendingOf(ctx context.Context) *pendingTx {
	p, _ := ctx.Value(pendingTxKey{}).(*pendingTx)
	return p
}

// write runs a statement that returns no rows, or queues it when ctx holds a
// transaction not yet begun in Postgres. notFound, if not nil, is the error
// of a statement ending in mustFind that found no row.
func (s *Store) write(ctx context.Context, what string, notFound error, sql string, args ...any) error {
	if _, inTx := ctx.Value(txKey{}).(pgx.Tx); !inTx {
		if p := pendingOf(ctx); p != nil && p.queue(pendingOp{what, notFound}, sql, args...) {
			return nil
		}
	}
	if _, err := s.db(ctx).Exec(ctx, sql, args...); err != nil {
		return pendingOp{what, notFound}.err(err)
	}
	return nil
}

func (op pendingOp) err(err error) error {
	if op.notFound != nil && isNotFound(err) {
		return fmt.Errorf("%s: %w", op.what, op.notFound)
	}
	return oauth2DBError(op.what, err)
}

// queue adds a statement unless the transaction has begun in Postgres.
func (p *pendingTx) queue(op pendingOp, sql string, args ...any) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tx != nil || p.ended {
		return false
	}
	p.batch.Queue(sql, args...)
	p.ops = append(p.ops, op)
	return true
}

func (p *pendingTx) rotated(requestID, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rotations == nil {
		p.rotations = map[string]string{}
	}
	p.rotations[requestID] = key
}

// rotatedIn is the key of the grant's refresh token that ctx's transaction
// rotated, if any.
func rotatedIn(ctx context.Context, requestID string) (string, bool) {
	p := pendingOf(ctx)
	if p == nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key, ok := p.rotations[requestID]
	return key, ok
}

// begin begins the transaction in Postgres, if it has not yet, and sends
// the writes queued so far in it.
func (p *pendingTx) begin(ctx context.Context) (pgx.Tx, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tx != nil {
		return p.tx, nil
	}
	if p.ended {
		return nil, pgx.ErrTxClosed
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.send(tx.SendBatch(ctx, &p.batch)); err != nil {
		p.ended = true
		if rerr := tx.Rollback(ctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	p.tx = tx
	return tx, nil
}

// send reads a sent batch of the queued statements, stopping at the first
// error, and empties the queue.
func (p *pendingTx) send(br pgx.BatchResults) error {
	var err error
	for _, op := range p.ops {
		if _, err = br.Exec(); err != nil {
			err = op.err(err)
			break
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = oauth2DBError("send queued writes", cerr)
	}
	p.batch = pgx.Batch{}
	p.ops = nil
	return err
}

func (p *pendingTx) commit(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return fmt.Errorf("commit: %w", pgx.ErrTxClosed)
	}
	p.ended = true
	if p.tx == nil {
		if p.batch.Len() == 0 {
			return nil
		}
		return p.send(p.pool.SendBatch(ctx, &p.batch))
	}
	if p.batch.Len() > 0 {
		if err := p.send(p.tx.SendBatch(ctx, &p.batch)); err != nil {
			return errors.Join(err, p.tx.Rollback(ctx))
		}
	}
	if err := p.tx.Commit(ctx); err != nil {
		return oauth2DBError("commit", err)
	}
	return nil
}

func (p *pendingTx) rollback(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	p.batch = pgx.Batch{}
	p.ops = nil
	if p.tx == nil {
		return nil
	}
	if err := p.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return oauth2DBError("rollback", err)
	}
	return nil
}
