package server

import (
	"context"
	"net/http"
	"time"
)

// CORS for the endpoints a single-page app calls with fetch (token, revoke,
// userinfo). An origin is allowed when it is one of the calling client's
// "allowed web origins"; a preflight, which names no client, is allowed for
// any registered web origin and the real request is then checked per client.

const corsAllowHeaders = "Authorization, Content-Type, Auth0-Client, DPoP"

// handlePreflight answers OPTIONS for the SPA endpoints.
func (s *Server) handlePreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if origin != "" && s.anyClientAllowsOrigin(r, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// allowClientOrigin adds CORS headers to a response when the request's Origin
// is allowed for the named client (or, with no client named, for any).
func (s *Server) allowClientOrigin(w http.ResponseWriter, r *http.Request, clientID string) {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return
	}
	allowed := false
	if clientID == "" {
		allowed = s.anyClientAllowsOrigin(r, origin)
	} else if c, err := s.clients.ClientByID(r.Context(), clientID); err == nil {
		allowed = c.AllowsOrigin(origin)
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}

func (s *Server) anyClientAllowsOrigin(r *http.Request, origin string) bool {
	origins, err := s.webOrigins.Get(r.Context())
	if err != nil {
		s.logger(r.Context()).Warn("list clients for CORS", "err", err)
		return false
	}
	return origins[origin]
}

// webOriginsTTL is how long every client's allowed web origins are kept, so
// that preflights do not read the client table each time; a change reaches
// every replica within it. While one preflight reads them afresh, the others
// are answered from the last read (package cache).
const webOriginsTTL = time.Second

// loadWebOrigins reads every client's allowed web origins.
func (s *Server) loadWebOrigins(ctx context.Context) (map[string]bool, error) {
	all, err := s.clients.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	origins := map[string]bool{}
	for _, cl := range all {
		for _, o := range cl.WebOrigins {
			origins[o] = true
		}
	}
	return origins, nil
}
