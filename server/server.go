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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/account"
)

// Config is what the operator decides about the HTTP surface.
type Config struct {
	Issuer         *url.URL // public base URL, path ending in "/"
	AppName        string
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	MaxBodyBytes   int64          // request bodies above this are refused with 413
}

// Pinger reports whether the database answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds the handlers' shared dependencies.
type Server struct {
	cfg      Config
	base     string // issuer path, "/" or "/auth/"
	secure   bool   // issuer is https: cookies get Secure and the __Host- prefix
	accounts *account.Service
	db       Pinger
	log      *slog.Logger
	metrics  *metrics
	registry *prometheus.Registry
	pages    map[string]*template.Template
}

// New builds a Server. The registry receives Gatehouse's metrics and is what
// /metrics serves.
func New(cfg Config, accounts *account.Service, db Pinger, log *slog.Logger, registry *prometheus.Registry) (*Server, error) {
	if cfg.Issuer == nil || !strings.HasSuffix(cfg.Issuer.Path, "/") {
		return nil, fmt.Errorf("server: issuer must be a URL whose path ends in /")
	}
	if cfg.AppName == "" {
		cfg.AppName = "Gatehouse"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(registry)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		base:     cfg.Issuer.Path,
		secure:   cfg.Issuer.Scheme == "https",
		accounts: accounts,
		db:       db,
		log:      log,
		metrics:  m,
		registry: registry,
		pages:    pages,
	}, nil
}

// Handler is the whole HTTP surface with its middleware.
func (s *Server) Handler() http.Handler {
	return s.withRequestID(s.withLogging(s.withRecovery(s.withSecurityHeaders(
		s.withCrossOriginProtection(s.withBodyLimit(s.routes()))))))
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
