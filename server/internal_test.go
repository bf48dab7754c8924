package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-id/gatehouse/i18n"
)

func newBareServer(t *testing.T, proxies ...string) *Server {
	t.Helper()
	cfg := Config{Issuer: &url.URL{Scheme: "http", Host: "localhost", Path: "/"}}
	for _, p := range proxies {
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(p))
	}
	catalog, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := newPageSets(catalog)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &Server{cfg: cfg, base: "/", log: slog.New(slog.DiscardHandler), metrics: m, pages: pages, catalog: catalog}
}

func TestPanicsBecomeAPlainErrorPage(t *testing.T) {
	s := newBareServer(t)
	h := s.withRequestID(s.withLogging(s.withRecovery(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	}))))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret internal detail") || strings.Contains(body, "goroutine") {
		t.Fatal("the error page shows the panic")
	}
	if !strings.Contains(body, `data-screen="error"`) || !strings.Contains(body, rec.Header().Get("X-Request-Id")) {
		t.Fatal("the error page lacks the screen marker or the request reference")
	}
}

func TestClientIPComesFromForwardedForOnlyBehindTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		proxies []string
		remote  string
		xff     string
		want    string
	}{
		{"no proxies trusted: header ignored", nil, "192.0.2.1:5000", "203.0.113.5", "192.0.2.1"},
		{"untrusted peer: header ignored", []string{"10.0.0.0/8"}, "192.0.2.1:5000", "203.0.113.5", "192.0.2.1"},
		{"trusted proxy: client from header", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "203.0.113.5", "203.0.113.5"},
		{"spoofed left entries are skipped", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "1.1.1.1, 203.0.113.5", "203.0.113.5"},
		{"chain of trusted proxies", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "203.0.113.5, 10.9.9.9", "203.0.113.5"},
		{"garbage entry stops the walk", []string{"10.0.0.0/8"}, "10.1.2.3:5000", "203.0.113.5, nonsense", "10.1.2.3"},
		{"IPv6 peer", nil, "[2001:db8::1]:5000", "", "2001:db8::1"},
		{"IPv4-mapped IPv6 is unmapped", nil, "[::ffff:192.0.2.1]:5000", "", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBareServer(t, tt.proxies...)
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := s.resolveClientIP(r); got.String() != tt.want {
				t.Fatalf("client ip %v, want %s", got, tt.want)
			}
		})
	}
}
