// Package store is Gatehouse's Postgres edge (pgx v5): it applies the embedded
// migrations and implements the storage interfaces the domain packages declare.
// Every method uses the transaction in its context when there is one, so a
// caller can group several of them atomically.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the Postgres implementation of Gatehouse's storage.
type Store struct {
	pool *pgxpool.Pool
}

// PoolOptions size the connection pool; zero values keep pgx's defaults or the
// DSN's pool_* settings.
type PoolOptions struct {
	MaxConns        int32
	ApplicationName string
}

// Open connects to Postgres and checks the connection. The DSN may carry pgx's
// pool_* settings, which win over opts.
func Open(ctx context.Context, dsn string, opts PoolOptions) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 && !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.ApplicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = opts.ApplicationName
	}
	cfg.MinIdleConns = min(2, cfg.MaxConns)
	cfg.MaxConnLifetime, cfg.MaxConnLifetimeJitter = time.Hour, 5*time.Minute
	cfg.PingTimeout = 2 * time.Second
	cfg.AfterConnect = registerJSONTypes
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", redact(cfg.ConnConfig), err)
	}
	return &Store{pool: pool}, nil
}

// registerJSONTypes names the Postgres type of the Go values Gatehouse
// passes as JSON. pgx learns a parameter's type from Postgres when it
// prepares or describes a statement; with default_query_exec_mode=exec (the
// mode for a transaction-pooling PgBouncer older than 1.21, docs/scaling.md)
// it does neither, and refuses a map it cannot place ("unable to encode ...
// for unknown type"), which once made every audit entry with details fail
// through PgBouncer. In the other modes Postgres's own description wins and
// this changes nothing.
func registerJSONTypes(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterDefaultPgType(map[string]any{}, "jsonb")
	conn.TypeMap().RegisterDefaultPgType(json.RawMessage{}, "jsonb")
	return nil
}

// New wraps an existing pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool for migrations and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

type txKey struct{}

// InTx runs fn in one transaction; store methods called with the ctx it
// receives join that transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, ok, err := s.tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if ok {
		return fn(context.WithValue(ctx, txKey{}, tx))
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func (s *Store) db(ctx context.Context) querier {
	tx, ok, err := s.tx(ctx)
	if err != nil {
		return failedQuerier{fmt.Errorf("begin transaction: %w", err)}
	}
	if ok {
		return tx
	}
	return s.pool
}

// tx is the transaction ctx holds, if any; a pending one (see BeginTX) is
// begun in Postgres first.
func (s *Store) tx(ctx context.Context) (pgx.Tx, bool, error) {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx, true, nil
	}
	if p := pendingOf(ctx); p != nil {
		tx, err := p.begin(ctx)
		return tx, err == nil, err
	}
	return nil, false, nil
}

// failedQuerier answers every statement with the error that kept a pending
// transaction from beginning.
type failedQuerier struct{ err error }

func (q failedQuerier) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, q.err
}
func (q failedQuerier) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, q.err }
func (q failedQuerier) QueryRow(context.Context, string, ...any) pgx.Row        { return failedRow(q) }
func (q failedQuerier) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return failedBatch(q)
}

type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }

type failedBatch struct{ err error }

func (b failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b failedBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b failedBatch) QueryRow() pgx.Row                { return failedRow(b) }
func (b failedBatch) Close() error                     { return b.err }
func (b failedBatch) Tx() pgx.Tx                       { return nil }

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// constraintOf names the constraint (or unique index) err violated.
func constraintOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// inet turns an unknown address into SQL null.
func inet(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	return a
}

// nullTime turns a zero time into SQL null.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
