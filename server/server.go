package server

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/cache"
	"github.com/gatehouse-id/gatehouse/claims"
	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/keys"
	"github.com/gatehouse-id/gatehouse/mail"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/roles"
	"github.com/gatehouse-id/gatehouse/settings"
	"github.com/gatehouse-id/gatehouse/store"
)

// Config is what the operator decides about the HTTP surface.
type Config struct {
	Issuer         *url.URL // public base URL, path ending in "/"
	AppName        string
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	MaxBodyBytes   int64          // request bodies above this are refused with 413
	SecretKey      []byte         // the 32-byte master key
	Lifetimes      TokenLifetimes
	Refresh        store.OAuth2Config // refresh token reuse interval and absolute lifetime
}

// Pinger reports whether the database answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the Server's collaborators.
type Deps struct {
	Accounts *account.Service
	Store    *store.Store // readiness, login transactions, OAuth storage
	Clients  clients.Store
	Keys     *keys.Manager
	Log      *slog.Logger
	Registry *prometheus.Registry // receives Gatehouse's metrics; MetricsHandler serves it
	Now      func() time.Time

	// Settings are the admin's run-time choices; nil builds them on Store.
	Settings *settings.Service
	// ClientAdmin makes administrators' changes to applications, APIs and
	// grants; nil builds it on Store.
	ClientAdmin *clients.Service
	// Branding changes applications' looks; nil builds it on Store.
	Branding *branding.Service

	MFA        *mfa.Service // nil: no second factor at all
	WakeOutbox func()       // asks the SMS dispatcher to send at once
	SMS        *sms.Switch  // the SMS delivery; Plivo's status callbacks are accepted while Plivo delivers
	DevOutbox  *sms.Console // set in dev: /dev/outbox lists what it "sent"
	Risk       *risk.Engine // the adaptive policy's assessment; nil: adaptive acts as always
	Locator    risk.Locator // GeoIP, to note each login's country; may be nil

	// Catalog holds the hosted pages' languages; nil loads the shipped ones.
	Catalog *i18n.Catalog

	WakeMail func()        // asks the mail dispatcher to send at once
	DevMail  *mail.Console // set in dev: /dev/outbox also lists the mails it "sent"
}

// Server holds the handlers' shared dependencies.
type Server struct {
	cfg        Config
	base       string // issuer path, "/" or "/auth/"
	secure     bool   // issuer is https: cookies get Secure and the __Host- prefix
	accounts   *account.Service
	db         Pinger
	store      *store.Store
	clients    clients.Store
	clientAdm  *clients.Service
	roles      *roles.Service
	claims     *claims.Service
	brands     *branding.Service
	keys       *keys.Manager
	signer     *rotatingSigner
	oauth      fosite.OAuth2Provider
	lifetimes  TokenLifetimes
	mfa        *mfa.Service
	passkeys   *passkey.Service // nil: no passkeys (no MFA, or an issuer on an IP address)
	settings   *settings.Service
	webOrigins *cache.Cache[map[string]bool]
	countries  map[string][]country // by language tag
	wake       func()
	sms        *sms.Switch
	devOutbox  *sms.Console
	devMail    *mail.Console
	wakeMailer func()
	risk       *risk.Engine
	authority  *assurance.Authority
	locator    risk.Locator
	now        func() time.Time
	log        *slog.Logger
	metrics    *metrics
	registry   *prometheus.Registry
	pages      *pageSets
	catalog    *i18n.Catalog
	adminPages func() (map[string]*template.Template, error) // parsed at the console's first page

	// refreshTokens finds a refresh token's signature, to read its row with
	// the client's (store.WithRefreshTokenPrefetch).
	refreshTokens oauth2.RefreshTokenStrategy
}

// New builds a Server.
func New(cfg Config, d Deps) (*Server, error) {
	if cfg.Issuer == nil || !strings.HasSuffix(cfg.Issuer.Path, "/") {
		return nil, fmt.Errorf("server: issuer must be a URL whose path ends in /")
	}
	if len(cfg.SecretKey) != 32 {
		return nil, fmt.Errorf("server: the master key must be 32 bytes")
	}
	if cfg.AppName == "" {
		cfg.AppName = "Gatehouse"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	cfg.Refresh.Now = d.Now
	catalog := d.Catalog
	if catalog == nil {
		var err error
		if catalog, err = i18n.Load(); err != nil {
			return nil, err
		}
	}
	pages, err := newPageSets(catalog)
	if err != nil {
		return nil, err
	}
	// The console's pages (1.9 MiB of parse trees) wait for its first page:
	// many replicas never serve one. Their parse is tested with the pages'.
	admin := sync.OnceValues(func() (map[string]*template.Template, error) {
		return adminPages(catalog.Localizer(i18n.English))
	})
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		base:       cfg.Issuer.Path,
		secure:     cfg.Issuer.Scheme == "https",
		accounts:   d.Accounts,
		db:         d.Store,
		store:      d.Store,
		clients:    d.Clients,
		clientAdm:  d.ClientAdmin,
		brands:     d.Branding,
		keys:       d.Keys,
		signer:     newRotatingSigner(d.Keys),
		lifetimes:  cfg.Lifetimes.withDefaults(),
		mfa:        d.MFA,
		settings:   d.Settings,
		countries:  countryLists(catalog.Languages()),
		wake:       d.WakeOutbox,
		sms:        d.SMS,
		devOutbox:  d.DevOutbox,
		devMail:    d.DevMail,
		wakeMailer: d.WakeMail,
		risk:       d.Risk,
		locator:    d.Locator,
		now:        d.Now,
		log:        d.Log,
		metrics:    m,
		registry:   d.Registry,
		pages:      pages,
		catalog:    catalog,
		adminPages: admin,
	}
	s.webOrigins = cache.New(webOriginsTTL, s.now, s.loadWebOrigins)
	if s.settings == nil {
		if s.settings, err = settings.NewService(d.Store, d.Store, cfg.SecretKey, d.Now, settings.WithLog(d.Log)); err != nil {
			return nil, err
		}
	}
	if s.clientAdm == nil && d.Store != nil {
		s.clientAdm = clients.NewService(clients.Deps{Registry: d.Store, Audit: d.Store, Now: d.Now, Log: d.Log})
	}
	if d.Store != nil {
		s.roles = roles.NewService(roles.Deps{Store: d.Store, APIs: d.Store, Audit: d.Store, Now: d.Now, Log: d.Log, MachineOnly: s.builtInAPI})
		s.claims = claims.NewService(d.Store, d.Store, d.Now, d.Log)
	}
	if s.brands == nil && d.Store != nil {
		s.brands = branding.NewService(d.Store, d.Clients, d.Store, d.Now, d.Log)
	}
	if d.MFA != nil && d.Store != nil {
		// Browsers take only a domain name as a passkey's relying party: an
		// issuer on an IP address offers no passkeys.
		if rp, err := passkey.ConfigFromIssuer(cfg.Issuer.String(), cfg.AppName); err != nil {
			d.Log.Warn("passkeys are off", "reason", err.Error())
		} else if s.passkeys, err = passkey.New(rp, passkey.Deps{Store: d.Store, Now: d.Now}); err != nil {
			return nil, err
		}
	}
	s.authority = s.newAuthority(d.Risk)
	registry := clientRegistry{clients: d.Clients, grants: d.Store}
	if d.Store != nil {
		registry.apiScopes = d.Store
	}
	storage := store.NewOAuth2(d.Store, registry, cfg.Refresh)
	provider, fositeCfg := newFositeProvider(cfg.Issuer.String(), cfg.SecretKey, s.lifetimes, storage, s.signer)
	s.refreshTokens = compose.NewOAuth2HMACStrategy(fositeCfg)
	s.oauth = outageAwareProvider{OAuth2Provider: provider, s: s}
	return s, nil
}

// Handler is the whole HTTP surface with its middleware.
func (s *Server) Handler() http.Handler {
	mux, _ := s.routes()
	return s.withRequestID(s.withLogging(s.withRecovery(s.withSecurityHeaders(
		s.withCrossOriginProtection(s.withBodyLimit(s.withLanguage(mux)))))))
}

// tenant returns the admin's settings as every replica sees them: read
// through a cache of at most settings.CacheTTL.
func (s *Server) tenant(ctx context.Context) (settings.Snapshot, error) {
	return s.settings.Current(ctx)
}

// NewHTTPServer wraps h with timeouts that keep slow or idle clients from
// holding connections open forever.
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
