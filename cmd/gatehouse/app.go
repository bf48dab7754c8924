package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/store"
)

// openStore connects to Postgres and, unless told not to, brings the schema up
// to date.
func openStore(ctx context.Context, dsn string, migrate bool, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, dsn, store.PoolOptions{ApplicationName: "gatehouse"})
	if err != nil {
		return nil, err
	}
	if migrate {
		v, err := store.Migrate(ctx, st.Pool())
		if err != nil {
			st.Close()
			return nil, err
		}
		log.Info("database schema up to date", "version", v)
	}
	return st, nil
}

// openCLIStore opens the database named by --database-url or DATABASE_URL for
// a command-line action, bringing the schema up to date when migrate is set.
func openCLIStore(ctx context.Context, e env, flagValue string, migrate bool) (*store.Store, error) {
	dsn, err := parseDatabaseURL(settingName("--database-url", flagValue, "DATABASE_URL"), orDefault(flagValue, e.getenv("DATABASE_URL"), ""))
	if err != nil {
		return nil, err
	}
	return openStore(ctx, dsn, migrate, newLogger(e, false))
}

// newAccounts wires the account service to Postgres. Hashing runs at most one
// per core at a time, so a login flood queues rather than exhausting memory.
func newAccounts(st *store.Store, log *slog.Logger) *account.Service {
	return account.NewService(account.Deps{
		Users:    st,
		Sessions: st,
		Failures: st,
		Audit:    st,
		Hasher:   password.NewHasher(password.OWASP(), runtime.NumCPU()),
		Policy:   password.NewPolicy(),
		Limits:   account.DefaultLimits(),
		Log:      log,
	})
}

// serveHTTP runs the HTTP server until ctx ends, then drains it.
func serveHTTP(ctx context.Context, c config, st *store.Store, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	km, err := keys.NewManager(st, c.secretKey, keys.Options{})
	if err != nil {
		return err
	}
	if err := km.Init(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	srv, err := server.New(
		server.Config{Issuer: c.issuer, TrustedProxies: c.trustedProxies, SecretKey: c.secretKey, Refresh: store.DefaultOAuth2Config()},
		server.Deps{Accounts: newAccounts(st, log), Store: st, Clients: st, Keys: km, Log: log, Registry: reg})
	if err != nil {
		return err
	}
	httpSrv := server.NewHTTPServer(c.addr, srv.Handler(), log)

	go sweepExpired(ctx, st, log)

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.ListenAndServe() }()
	log.Info("gatehouse listening", "addr", c.addr, "issuer", c.issuer.String())
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// sweepExpired deletes ended sessions and stale counters now and then. Every
// replica runs it; the deletes are idempotent, so they need no coordination.
func sweepExpired(ctx context.Context, st *store.Store, log *slog.Logger) {
	counterAge := account.DefaultLimits().IPWindow + time.Hour
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		n, err := st.DeleteExpired(ctx, time.Now(), counterAge)
		if err != nil && ctx.Err() == nil {
			log.Warn("sweeping expired rows failed", "err", err)
		} else if n > 0 {
			log.Info("swept expired rows", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newLogger(e env, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}
