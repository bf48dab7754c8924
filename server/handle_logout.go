package server

import "net/http"

// handleLogoutForm asks before logging out: a GET must not change state, or any
// page could log the user out with an <img> tag.
func (s *Server) handleLogoutForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "logout", s.newView(r, "logout", "title.logout"))
	})
}

func (s *Server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token := s.sessionToken(r); token != "" {
			if err := s.accounts.EndSession(r.Context(), token, meta(r)); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		s.clearSessionCookie(w)
		http.Redirect(w, r, s.base+"login?logged_out=1", http.StatusSeeOther)
	})
}
