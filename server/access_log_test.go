package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAccessLogLeavesOutOnlySuccessfulPublicDocuments checks which requests
// the access log writes: every one, except a successful GET or HEAD of the
// discovery document, the JWKS or a static file; a refused or failed one of
// those is logged too.
func TestAccessLogLeavesOutOnlySuccessfulPublicDocuments(t *testing.T) {
	var buf bytes.Buffer
	s := newBareServer(t)
	s.log = slog.New(slog.NewJSONHandler(&buf, nil))
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	mux.Handle("GET /.well-known/openid-configuration", ok)
	mux.Handle("GET /.well-known/oauth-authorization-server", ok)
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/static/app.css" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("body{}"))
	}))
	failing := true
	mux.Handle("GET /.well-known/jwks.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing {
			http.Error(w, "keys unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("{}"))
	}))
	mux.Handle("GET /login", ok)
	mux.Handle("POST /oauth/token", ok)
	h := s.withRequestID(s.withLogging(mux))

	tests := []struct {
		name, method, path string
		failing            bool
		logged             bool
	}{
		{"discovery", "GET", "/.well-known/openid-configuration", false, false},
		{"discovery by HEAD", "HEAD", "/.well-known/openid-configuration", false, false},
		{"RFC 8414 metadata", "GET", "/.well-known/oauth-authorization-server", false, false},
		{"JWKS", "GET", "/.well-known/jwks.json", false, false},
		{"a static file", "GET", "/static/app.css", false, false},
		{"JWKS that fails", "GET", "/.well-known/jwks.json", true, true},
		{"a static file that is not there", "GET", "/static/missing.css", false, true},
		{"discovery by POST, refused", "POST", "/.well-known/openid-configuration", false, true},
		{"an unknown path", "GET", "/.well-known/other", false, true},
		{"a page", "GET", "/login", false, true},
		{"the token endpoint", "POST", "/oauth/token", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf.Reset()
			failing = tc.failing
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if !tc.logged {
				if buf.Len() != 0 {
					t.Errorf("logged %s", buf.String())
				}
				return
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("no single access log line (status %d): %q", rec.Code, buf.String())
			}
			if line["msg"] != "request" || line["path"] != tc.path || line["status"] != float64(rec.Code) ||
				line["request_id"] != rec.Header().Get("X-Request-Id") || line["request_id"] == "" {
				t.Errorf("access log line %v for %d with request id %q", line, rec.Code, rec.Header().Get("X-Request-Id"))
			}
		})
	}
}

// TestHandlerLoggerCarriesTheRequestID checks that what a handler logs names
// the request, as the access log line does.
func TestHandlerLoggerCarriesTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	s := newBareServer(t)
	s.log = slog.New(slog.NewJSONHandler(&buf, nil))
	h := s.withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logger(r.Context()).Warn("something to say")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("no single log line: %q", buf.String())
	}
	if id := rec.Header().Get("X-Request-Id"); id == "" || line["request_id"] != id {
		t.Errorf("log line %v, want request_id %q", line, id)
	}
}
