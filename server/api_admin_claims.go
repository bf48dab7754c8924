package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-id/gatehouse/claims"
)

// An application's custom claims in the admin API:
// GET/PUT api/admin/clients/{id}/claims with
// {"claims": [{"claim", "source", "token": "id_token"|"access_token"|"both"}]}.

type claimJSON struct {
	Claim  string `json:"claim"`
	Source string `json:"source"`
	Token  string `json:"token"`
}

func (s *Server) writeClaims(w http.ResponseWriter, r *http.Request, clientID string) {
	ms, err := s.claims.Of(r.Context(), clientID)
	if err != nil {
		s.apiServerError(w, r, err)
		return
	}
	out := make([]claimJSON, len(ms))
	for i, m := range ms {
		out[i] = claimJSON{Claim: m.Claim, Source: m.Source, Token: string(m.Target)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"claims": out})
}

func (s *Server) handleAPIGetClaims() http.Handler {
	return s.requireAdminScope("read:clients", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		if c, ok := s.apiClient(w, r); ok {
			s.writeClaims(w, r, c.ID)
		}
	})
}

func (s *Server) handleAPISetClaims() http.Handler {
	return s.requireAdminScope("update:clients", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		c, ok := s.apiClient(w, r)
		if !ok {
			return
		}
		var body struct {
			Claims []claimJSON `json:"claims"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		ms := make([]claims.Mapping, len(body.Claims))
		for i, x := range body.Claims {
			ms[i] = claims.Mapping{Claim: x.Claim, Source: x.Source, Target: claims.Target(x.Token)}
		}
		err := s.claims.Set(r.Context(), c.ID, ms, apiActor(caller), meta(r))
		var ve *claims.ValidationError
		switch {
		case errors.As(err, &ve):
			apiError(w, http.StatusBadRequest, "invalid_claims", "The custom claims were not changed.", map[string]string{ve.Field: ve.Problem})
		case errors.Is(err, claims.ErrNotFound):
			apiError(w, http.StatusNotFound, "not_found", "No application has this client id.", nil)
		case err != nil:
			s.apiServerError(w, r, err)
		default:
			s.writeClaims(w, r, c.ID)
		}
	})
}
