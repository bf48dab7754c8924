package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/gatehouse-id/gatehouse/migrations"
)

// versionTable records how far the schema has been migrated.
const versionTable = "public.schema_version"

// Migrate applies every pending migration. tern holds a Postgres advisory lock
// while it checks and applies, so replicas starting together take turns and the
// later ones find nothing left to do. It returns the schema version reached.
//
// A schema already up to date, the usual case at a replica's start, is found
// by reading its version alone, without tern's lock: that lock is held by a
// session, and a transaction-pooling pooler may strand it on a server
// connection it hands to other clients.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int32, error) {
	latest, err := latestVersion()
	if err != nil {
		return 0, err
	}
	var current int32
	if err := pool.QueryRow(ctx, `select version from `+versionTable).Scan(&current); err == nil && current == latest {
		return current, nil
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, fmt.Errorf("migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	v, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	return v, nil
}

// latestVersion is the version the embedded migrations bring a schema to.
// A migrator without a connection only loads and parses them.
func latestVersion() (int32, error) {
	m, err := migrate.NewMigrator(context.Background(), nil, versionTable)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, fmt.Errorf("migrate: load: %w", err)
	}
	return int32(len(m.Migrations)), nil
}
