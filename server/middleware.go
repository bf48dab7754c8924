package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	clientIPKey
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func clientIP(ctx context.Context) netip.Addr {
	ip, _ := ctx.Value(clientIPKey).(netip.Addr)
	return ip
}

// logger is the request's logger, carrying its request id. It is made when
// a handler asks, not for every request: slog's With formats the attribute
// at once, work the many requests that log nothing (discovery, JWKS) would
// pay for nothing.
func (s *Server) logger(ctx context.Context) *slog.Logger {
	if id := requestID(ctx); id != "" {
		return s.log.With("request_id", id)
	}
	return s.log
}

// withRequestID names each request and resolves the client address once;
// logger gives handlers a logger that carries the name.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		ip := s.resolveClientIP(r)
		w.Header()["X-Request-Id"] = []string{id}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, clientIPKey, ip)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// resolveClientIP believes X-Forwarded-For only when the peer is a trusted
// proxy, and then takes the right-most address that is not itself a trusted
// proxy: everything left of it could have been written by the client.
func (s *Server) resolveClientIP(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := peer.Addr().Unmap()
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		hop = hop.Unmap()
		if !s.trusted(hop) {
			return hop
		}
		ip = hop
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// statusRecorder remembers what the handler wrote, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// quietRoutes are the routes whose successful answers are not written to
// the access log, one line each: the discovery document, the JWKS and the
// static files are the same public bytes for everyone, fetched by every
// relying party and browser, and the log line was a sixth of the CPU of
// answering them. The request metrics still count and time every one of
// them; a refused or failed one (status 400 or more) is logged as any other.
var quietRoutes = []string{
	".well-known/openid-configuration",
	".well-known/oauth-authorization-server",
	".well-known/jwks.json",
	"static/",
}

// withLogging writes one access log line per request, except for successful
// answers on quietRoutes, and feeds the request metrics.
func (s *Server) withLogging(next http.Handler) http.Handler {
	quiet := map[string]bool{}
	for _, path := range quietRoutes {
		quiet["GET "+s.base+path] = true // HEAD requests match GET patterns too
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observeRequest(route, r.Method, rec.status, elapsed)
		if rec.status < 400 && quiet[r.Pattern] {
			return
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
			slog.String("ip", clientIP(r.Context()).String()),
		)
	})
}

// withRecovery turns a panic into a plain error page; the stack goes to the
// log, never to the client.
func (s *Server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger(r.Context()).Error("panic serving request", "panic", v, "stack", string(debug.Stack()))
			s.renderError(w, r, http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy has no form-action: Chromium applies form-action to
// the redirects that follow a form post, and posting the login (or code, or
// recovery) form ends in a redirect to the app's callback on the app's own
// origin, which 'self' would block, leaving the user on the login page. The
// pages post only to themselves; with no script allowed and every value
// escaped by html/template, an injected form is what form-action guarded.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'"

// contentSecurityPolicyWithScript is the policy of the pages that run a
// passkey ceremony: the one script file, which may fetch a login page's
// options from this origin. Still no inline script.
const contentSecurityPolicyWithScript = contentSecurityPolicy + "; script-src 'self'; connect-src 'self'"

// withSecurityHeaders sets the headers every response carries. The values
// are slices shared by all responses, made once: net/http only reads them,
// and a handler's Set or Add replaces a slice rather than writing into it.
func (s *Server) withSecurityHeaders(next http.Handler) http.Handler {
	type header struct {
		name  string
		value []string
	}
	headers := []header{
		{"Content-Security-Policy", []string{contentSecurityPolicy}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	}
	if s.secure {
		headers = append(headers, header{"Strict-Transport-Security", []string{"max-age=31536000"}})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, hd := range headers {
			h[hd.name] = hd.value
		}
		next.ServeHTTP(w, r)
	})
}

// keepOpener marks the pages a login popup passes through as willing to keep
// their opener. The Auth0 SPA SDK's loginWithPopup opens /authorize in a popup
// on the app's origin and waits for the web_message page to post the response
// to window.opener. A browser severs a popup from a cross-origin opener for
// good as soon as the popup loads a page whose Cross-Origin-Opener-Policy is
// anything but unsafe-none: same-origin, same-origin-allow-popups and
// noopener-allow-popups alike, even when the web_message page at the end of
// the flow sends none. So the whole flow (authorize, login, signup, forgot,
// the second-factor steps) says unsafe-none; every other page keeps the
// same-origin that withSecurityHeaders sets. Anyone may open these pages in a
// popup anyway by starting a web_message flow, so isolating them would not
// take a window reference away from an attacker, only from the app.
func keepOpener(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "unsafe-none")
		next.ServeHTTP(w, r)
	})
}

// withCrossOriginProtection refuses state-changing requests that a browser
// marks as coming from another site, which is what CSRF needs.
func (s *Server) withCrossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	// Single-page apps call these from their own origin by design; they carry
	// no cookie-based authority, and CORS decides what the app may read.
	for _, p := range []string{"POST " + s.base + "oauth/token", "POST " + s.base + "oauth/revoke", "POST " + s.base + "oauth/introspect", "POST " + s.base + "userinfo"} {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger(r.Context()).Warn("cross-origin request refused", "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		s.renderError(w, r, http.StatusForbidden)
	}))
	return cop.Handler(next)
}

// withBodyLimit refuses declared oversized bodies at once and caps undeclared
// ones; handlers see *http.MaxBytesError when a body runs over.
func (s *Server) withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.bodyLimit(r)
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close")
			if strings.HasPrefix(r.URL.Path, s.base+"api/") {
				apiError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.", nil)
				return
			}
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// parseForm reads a form body, answering the error page itself when the body
// is too large or malformed. It reports whether the handler may go on.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// The body is capped already (withBodyLimit): keep it all in memory.
		err = r.ParseMultipartForm(logoUploadBodyBytes)
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.renderError(w, r, http.StatusRequestEntityTooLarge)
		return false
	}
	s.renderError(w, r, http.StatusBadRequest)
	return false
}

// retryAfter sets Retry-After to the whole seconds until t.
func retryAfter(w http.ResponseWriter, until time.Time) {
	secs := int(time.Until(until).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}
