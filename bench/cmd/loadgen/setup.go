package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// runSetup raises the tenant's SMS limits. Their defaults (3 codes per phone
// per 10 minutes, 10 per IP per hour, 1000 an hour in total) are right for
// production and would refuse a benchmark's thousands of logins from one
// address within seconds. They are raised, not turned off, so that every
// login still counts its sends in every limit as in production.
func runSetup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadgen setup", flag.ContinueOnError)
	dsn := fs.String("database-url", os.Getenv("DATABASE_URL"), "Postgres URL (default DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(os.Getenv("GATEHOUSE_SECRET_KEY")))
	if err != nil || len(key) != 32 {
		return fmt.Errorf("GATEHOUSE_SECRET_KEY must be 32 bytes in base64")
	}
	st, err := store.Open(ctx, *dsn, store.PoolOptions{ApplicationName: "loadgen"})
	if err != nil {
		return err
	}
	defer st.Close()
	tenant, err := settings.NewService(st, st, key, nil)
	if err != nil {
		return err
	}
	const many = "1000000"
	err = tenant.Set(ctx, map[string]string{
		settings.KeyLimitPhone10m: many, settings.KeyLimitPhoneDay: many, settings.KeyLimitIPHour: many,
		settings.KeyLimitUserHour: many, settings.KeyLimitGlobalHour: many,
	}, "loadgen", account.Meta{})
	if err != nil {
		return fmt.Errorf("raise the SMS limits: %w", err)
	}
	fmt.Println("SMS limits raised to", many)
	return nil
}
