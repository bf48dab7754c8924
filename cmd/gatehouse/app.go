package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/certreload"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/outbox"
	"github.com/gatehouse-id/gatehouse/password"
	"github.com/gatehouse-id/gatehouse/server"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/templates"
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
// a command-line action, or else dev's, bringing the schema up to date when
// migrate is set.
func openCLIStore(ctx context.Context, e env, flagValue string, migrate bool) (*store.Store, error) {
	raw := orDefault(flagValue, e.getenv("DATABASE_URL"), "")
	if e.dev.applies(flagValue) {
		var err error
		if raw, err = e.dev.databaseURL(ctx); err != nil {
			return nil, err
		}
	}
	dsn, err := parseDatabaseURL(settingName("--database-url", flagValue, "DATABASE_URL"), raw)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, dsn, migrate, newLogger(e, false))
}

// newAccounts wires the account service to Postgres. Hashing runs at most one
// per core at a time, so a login flood queues rather than exhausting memory.
// mailer is nil where no mail is sent (the CLI); factors, the second factors
// a password reset must pass, is nil only along with it. tune lays the
// admin's signup limits over the defaults; nil where no one signs up.
func newAccounts(st *store.Store, log *slog.Logger, mailer account.Mailer, factors account.SecondFactors, tune account.SignupRuleSource) *account.Service {
	// The subject style is not a secret: reading it needs no master key,
	// which the command line may not have. With no key NewService cannot fail.
	tenant, _ := settings.NewService(st, st, nil, nil, settings.WithLog(log))
	return account.NewService(account.Deps{
		Users:         st,
		Sessions:      st,
		Failures:      st,
		Audit:         st,
		Hasher:        password.NewHasher(password.OWASP(), runtime.NumCPU()),
		Policy:        password.NewPolicy(),
		Limits:        account.DefaultLimits(),
		Log:           log,
		Email:         st,
		Mailer:        mailer,
		SecondFactors: factors,
		EmailRules:    account.DefaultEmailRules(),
		Signups:       st,
		SignupRules:   account.DefaultSignupRules(),
		TuneSignups:   tune,
		SubjectStyle:  tenant.SubjectStyle,
	})
}

// newMailOutbox is the mail outbox and its writer of account mails.
func newMailOutbox(st *store.Store, masterKey []byte, issuer *url.URL, catalog *i18n.Catalog) (*outbox.Outbox, accountMailer, error) {
	sealer, err := outbox.NewSealer(masterKey)
	if err != nil {
		return nil, accountMailer{}, err
	}
	composer, err := mail.NewComposer(templates.FS, catalog, issuer, "Gatehouse")
	if err != nil {
		return nil, accountMailer{}, err
	}
	box := outbox.New(st.MailOutbox(), sealer, time.Now)
	return box, accountMailer{box: box, composer: composer, languages: st}, nil
}

// newMFA wires the SMS factor: codes and phone numbers keyed by the master
// key, messages through the outbox in the challenge's own transaction.
func newMFA(st *store.Store, masterKey []byte, rememberFor time.Duration, tune mfa.RuleSource, catalog *i18n.Catalog, log *slog.Logger) (*mfa.Service, *outbox.Outbox, error) {
	vault, err := mfa.NewPhoneVault(masterKey)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := outbox.NewSealer(masterKey)
	if err != nil {
		return nil, nil, err
	}
	totpVault, err := mfa.NewTOTPVault(masterKey)
	if err != nil {
		return nil, nil, err
	}
	box := outbox.New(st, sealer, time.Now)
	rules := mfa.DefaultRules()
	rules.TrustedBrowserFor = rememberFor
	svc := mfa.NewService(mfa.Deps{
		Store: st, Outbox: mfaOutbox{box}, Audit: st,
		Codes: mfa.NewCodeHasher(masterKey), Vault: vault, TOTP: totpVault, Rules: rules, Tune: tune, Log: log,
		Wording: catalog.SMSWording,
	})
	return svc, box, nil
}

// mfaOutbox hands the SMS factor's messages to the outbox.
type mfaOutbox struct{ box *outbox.Outbox }

func (o mfaOutbox) Enqueue(ctx context.Context, m mfa.OutboxMessage) error {
	_, err := o.box.Enqueue(ctx, outbox.Enqueued{
		ChallengeID: m.ChallengeID, UserID: m.UserID, Purpose: m.Purpose, CountryCode: m.CountryCode,
		Message:   sms.Message{To: m.To, Text: m.Text, Code: m.Code, Purpose: m.Purpose, Locale: "en"},
		ExpiresAt: m.ExpiresAt,
	})
	return err
}

// auditDelivery writes each delivery outcome of a channel (sms.sent,
// mail.retry, sms.failed, mail.expired …) to the audit log.
func auditDelivery(ctx context.Context, st *store.Store, log *slog.Logger, channel string, r outbox.Row, provider, status string) {
	d := map[string]any{"message_id": r.ID, "purpose": r.Purpose, "provider": provider, "attempt": r.Attempts}
	if channel == "sms" {
		d["challenge_id"], d["country_code"] = r.ChallengeID, r.CountryCode
	}
	err := st.Record(context.WithoutCancel(ctx), account.Event{At: time.Now(), Type: channel + "." + status, UserID: r.UserID, Details: d})
	if err != nil {
		log.Error("audit log write failed", "event", channel+"."+status, "err", err)
	}
}

// listen binds the public address. Commands bind before they announce
// anything, so that a taken port ends the start with its reason instead of
// following a banner that says the server runs.
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		hint := "stop the program listening there, or listen elsewhere with --addr HOST:PORT"
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65535 {
				hint += ", e.g. --addr " + net.JoinHostPort(host, strconv.Itoa(n+1))
			}
		}
		return nil, &configError{"address " + addr, "is already in use by another program (another gatehouse?)", hint}
	}
	if err != nil {
		return nil, &configError{"address " + addr, fmt.Sprintf("cannot be listened on: %v", err), hintAddr}
	}
	return l, nil
}

// serveHTTP serves on l until ctx ends, then drains it. It returns only once
// its background work (outbox dispatchers, the sweeper) has stopped, since
// the caller closes the store next.
func serveHTTP(ctx context.Context, c config, l net.Listener, st *store.Store, log *slog.Logger) error {
	defer l.Close() // when start-up fails before the server owns it
	tlsConfig, err := serverTLS(c, log)
	if err != nil {
		return err
	}
	var background sync.WaitGroup
	defer background.Wait()
	ctx, stopBackground := context.WithCancel(ctx)
	defer stopBackground() // before the Wait above: a failed listen ends them too
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	km, err := keys.NewManager(st, c.secretKey, keys.Options{})
	if err != nil {
		return err
	}
	if err := km.Init(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	tenant, err := settings.NewService(st, st, c.secretKey, nil, settings.WithLog(log))
	if err != nil {
		return err
	}
	sender, console, err := smsSender(c.sms, tenant, log)
	if err != nil {
		return fmt.Errorf("sms provider: %w", err)
	}
	// One catalogue for the pages, the mails and the text messages: each
	// load holds every language's parsed messages (1.7 MiB).
	catalog, err := i18n.Load()
	if err != nil {
		return err
	}
	mfaService, box, err := newMFA(st, c.secretKey, c.rememberFor, tenant.Tune, catalog, log)
	if err != nil {
		return err
	}
	mailSend, mailConsole, err := mailSender(c.mail, log)
	if err != nil {
		return &configError{"GATEHOUSE_SMTP_URL", fmt.Sprintf("cannot be used: %v", err), hintSMTPURL}
	}
	mailBox, mailer, err := newMailOutbox(st, c.secretKey, c.issuer, catalog)
	if err != nil {
		return err
	}
	deps := server.Deps{Accounts: newAccounts(st, log, mailer, mfaService, tenant.TuneSignups), Store: st, Clients: st, Keys: km, Log: log, Registry: reg,
		Settings: tenant, MFA: mfaService, SMS: sender, Catalog: catalog}
	if mailConsole != nil && c.dev {
		deps.DevMail = mailConsole
	} else if mailConsole != nil {
		log.Warn("GATEHOUSE_MAIL is console: verification and password reset mails, links included, are only written to this log and none is sent; unsafe in production")
	}
	if c.geoIPPath != "" {
		geo, err := risk.OpenGeoIP(c.geoIPPath)
		if err != nil {
			return &configError{"GATEHOUSE_GEOIP_DB", fmt.Sprintf("cannot be used: %v", err), "set it to a MaxMind-format City database (.mmdb), e.g. GeoLite2-City.mmdb"}
		}
		defer geo.Close()
		deps.Locator = geo
	} else {
		log.Info("GATEHOUSE_GEOIP_DB is not set: the adaptive policy's location signals are off")
	}
	deps.Risk = mfaService.RiskEngine(mfa.AdaptiveSources{History: st, Failures: st, Users: st,
		Locator: deps.Locator, Tenant: tenant, ChallengeMedium: c.adaptiveChallengeMore})
	if c.dev {
		deps.DevOutbox = console
	} else if c.sms.provider == "console" {
		log.Warn("GATEHOUSE_SMS_PROVIDER is console: MFA codes are only written to this log and no SMS is sent, unless an admin picks a provider in the console; unsafe in production")
	}
	var dispatcher, mailDispatcher *outbox.Dispatcher
	deps.WakeOutbox = func() { dispatcher.Wake() }
	deps.WakeMail = func() { mailDispatcher.Wake() }
	srv, err := server.New(
		server.Config{Issuer: c.issuer, TrustedProxies: c.trustedProxies, SecretKey: c.secretKey, Refresh: store.DefaultOAuth2Config()},
		deps)
	if err != nil {
		return err
	}
	if err := srv.EnsureAdminAPI(ctx); err != nil {
		return err
	}
	dispatcher = outbox.NewDispatcher(box, st, sender, outbox.DispatcherOptions{Log: log,
		OnResult: func(r outbox.Row, provider, status string) {
			srv.SMSResult(provider, status)
			auditDelivery(ctx, st, log, "sms", r, provider, status)
		}})
	background.Go(func() { dispatcher.Run(ctx) })
	// A link lives for half an hour or a day, so mail rides out a relay
	// outage of about an hour and a half: 25 attempts, waits up to 5 minutes.
	mailDispatcher = outbox.NewMailDispatcher(mailBox, st.MailOutbox(), mailSend, outbox.DispatcherOptions{Log: log,
		MaxAttempts: 25, Backoff: outbox.BackoffUpTo(5 * time.Minute),
		OnResult: func(r outbox.Row, provider, status string) {
			auditDelivery(ctx, st, log, "mail", r, provider, status)
		}})
	background.Go(func() { mailDispatcher.Run(ctx) })
	httpSrv := server.NewHTTPServer(c.addr, srv.Handler(), log)
	httpSrv.TLSConfig = tlsConfig

	background.Go(func() { runJanitor(ctx, st, tenant, log) })
	if c.pprofAddr != "" {
		if err := servePprof(ctx, c.pprofAddr, log); err != nil {
			return err
		}
	}
	if c.metricsAddr != "" {
		if err := serveAside(ctx, "GATEHOUSE_METRICS_ADDR", c.metricsAddr, srv.MetricsHandler(), log.With("listener", "metrics")); err != nil {
			return err
		}
	}

	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- httpSrv.ServeTLS(l, "", "")
			return
		}
		errc <- httpSrv.Serve(l)
	}()
	log.Info("gatehouse listening", "addr", l.Addr().String(), "issuer", c.issuer.String(), "tls", tlsConfig != nil)
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", c.addr, err)
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

// serverTLS is the HTTPS configuration when a certificate is configured, nil
// for plain HTTP. The certificate is read again whenever its files change, so
// renewing it needs no restart.
func serverTLS(c config, log *slog.Logger) (*tls.Config, error) {
	if c.tlsCert == "" {
		return nil, nil
	}
	loader, err := certreload.New(c.tlsCert, c.tlsKey, func(err error) {
		log.Error("the TLS certificate files changed but do not load; still serving the previous certificate", "err", err)
	})
	if err != nil {
		return nil, &configError{"GATEHOUSE_TLS_CERT", fmt.Sprintf("cannot be used: %v", err), hintTLS}
	}
	if c.issuer.Scheme != "https" {
		log.Warn("serving HTTPS but GATEHOUSE_ISSUER is an http URL: tokens and links will name http", "issuer", c.issuer.String())
	}
	return loader.TLSConfig(), nil
}

func newLogger(e env, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}
