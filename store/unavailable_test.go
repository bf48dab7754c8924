package store_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestIsUnavailableTellsOutagesFromMistakes(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	ctx := context.Background()
	closedPort := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}()
	tests := []struct {
		name string
		err  func(t *testing.T, conn *pgx.Conn) error
		want bool
	}{
		{"no server listens", func(*testing.T, *pgx.Conn) error {
			_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://u:p@127.0.0.1:%d/db?connect_timeout=2", closedPort))
			return err
		}, true},
		{"the server ends the session", func(_ *testing.T, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "select pg_terminate_backend(pg_backend_pid())")
			return err
		}, true},
		{"the session is gone", func(t *testing.T, conn *pgx.Conn) error {
			if err := conn.Close(ctx); err != nil {
				t.Fatalf("closing the session: %v", err)
			}
			_, err := conn.Exec(ctx, "select 1")
			return err
		}, true},
		{"the server is read-only", func(_ *testing.T, conn *pgx.Conn) error {
			return pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "create table never_made (id int)")
				return err
			})
		}, true},
		{"a statement fails", func(_ *testing.T, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "select 1/0")
			return err
		}, false},
		{"a statement is wrong", func(_ *testing.T, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "select no_such_column from users")
			return err
		}, false},
		{"no row", func(_ *testing.T, conn *pgx.Conn) error {
			var id string
			return conn.QueryRow(ctx, "select id::text from users where false").Scan(&id)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			err = tt.err(t, conn)
			if err == nil {
				t.Fatal("no error")
			}
			if got := store.IsUnavailable(err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", err, got, tt.want)
			}
			if got := store.IsUnavailable(fmt.Errorf("wrapped: %w", err)); got != tt.want {
				t.Errorf("IsUnavailable of the wrapped error = %v, want %v", got, tt.want)
			}
		})
	}
}
