package main

import "context"

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "serve [flags]",
		"Runs the Gatehouse server. Pending database migrations are applied first,\nunless --no-migrate is given.",
		"DATABASE_URL", "GATEHOUSE_SECRET_KEY", "GATEHOUSE_ISSUER", "GATEHOUSE_ADDR", "GATEHOUSE_TRUSTED_PROXIES",
		"GATEHOUSE_TLS_CERT", "GATEHOUSE_TLS_KEY", "GATEHOUSE_SMS_PROVIDER", "GATEHOUSE_SMTP_URL", "GATEHOUSE_MAIL_FROM",
		"GATEHOUSE_MAIL", "GATEHOUSE_PPROF_ADDR", "GATEHOUSE_METRICS_ADDR")
	var f serverFlags
	fs.StringVar(&f.databaseURL, "database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	fs.StringVar(&f.issuer, "issuer", "", "public base URL ending in / (overrides GATEHOUSE_ISSUER)")
	fs.StringVar(&f.addr, "addr", "", "listen address (overrides GATEHOUSE_ADDR)")
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(e, f, false)
	if err != nil {
		return err
	}
	log := newLogger(e, true)
	st, err := openStore(ctx, c.databaseURL, !*noMigrate, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// Bound after the migrations, so that a load balancer's TCP check does
	// not find the port open while they run.
	l, err := listen(c.addr)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, c, l, st, log)
}
