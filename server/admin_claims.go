package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-id/gatehouse/claims"
	"github.com/gatehouse-id/gatehouse/clients"
)

// The custom claims page of an application: one mapping a line, as
// "claim = source @ token", saved through the claims package's Service.

type adminClaimsData struct {
	App     clients.Client
	Text    string
	Sources []string
}

func formatClaims(ms []claims.Mapping) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s = %s @ %s\n", m.Claim, m.Source, m.Target)
	}
	return b.String()
}

// parseClaims reads the textarea; the claim is a URL, so the source
// follows its last "=" and the token its last "@".
func parseClaims(text string) ([]claims.Mapping, error) {
	var out []claims.Mapping
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		eq, at := strings.LastIndexByte(line, '='), strings.LastIndexByte(line, '@')
		if eq <= 0 || at < eq {
			return nil, &claims.ValidationError{Field: "claims", Problem: fmt.Sprintf("line %d: write claim = source @ token", n+1)}
		}
		out = append(out, claims.Mapping{Claim: strings.TrimSpace(line[:eq]), Source: strings.TrimSpace(line[eq+1 : at]),
			Target: claims.Target(strings.TrimSpace(line[at+1:]))})
	}
	return out, nil
}

func (s *Server) handleAdminClaims() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok {
			return
		}
		ms, err := s.claims.Of(r.Context(), c.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAdminClaims(w, r, http.StatusOK, c, formatClaims(ms), "")
	})
}

func (s *Server) renderAdminClaims(w http.ResponseWriter, r *http.Request, status int, c clients.Client, text, problem string) {
	v := s.newAdminView(r, "applications", "Custom claims of "+c.Name)
	v.Data = &adminClaimsData{App: c, Text: text, Sources: claims.Sources}
	if problem != "" {
		v.Fields, v.Error = map[string]string{"claims": problem}, "Nothing was saved: correct the claims below."
	}
	s.renderAdmin(w, r, status, "admin-claims", v)
}

func (s *Server) handleAdminClaimsSave() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.adminApp(w, r)
		if !ok {
			return
		}
		if c.BuiltIn() {
			s.renderMessage(w, r, http.StatusBadRequest, "Built-in application", "Gatehouse manages this application itself.")
			return
		}
		text := r.PostForm.Get("claims")
		ms, err := parseClaims(text)
		if err == nil {
			err = s.claims.Set(r.Context(), c.ID, ms, adminActor(r), meta(r))
		}
		var ve *claims.ValidationError
		if errors.As(err, &ve) {
			s.renderAdminClaims(w, r, http.StatusBadRequest, c, text, ve.Problem)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.seeOther(w, r, "admin/applications/"+c.ID+"/claims", "Claims saved. Tokens issued from now on carry them.")
	})
}
