package server

import "net/http"

// adminRoutes lists the admin console. Every route is behind requireAdmin.
func (s *Server) adminRoutes(handle func(method, path string, h http.Handler)) {
	admin := func(method, path string, h http.Handler) { handle(method, path, s.requireAdmin(h)) }

	admin("GET", "admin/{$}", s.handleAdminHome())
	admin("GET", "admin/mfa", s.handleAdminMFA())
	admin("POST", "admin/mfa", s.handleAdminMFASave())
	admin("POST", "admin/mfa/test", s.handleAdminSMSTest())
}

// apiRoutes lists the admin JSON API; each handler names the scope it needs.
func (s *Server) apiRoutes(handle func(method, path string, h http.Handler)) {
	handle("GET", "api/admin/settings", s.handleAPIGetSettings())
	handle("PATCH", "api/admin/settings", s.handleAPIPatchSettings())
	handle("GET", "api/admin/logs", s.handleAPILogs())
	handle("GET", "api/admin/clients", s.handleAPIListClients())
	handle("POST", "api/admin/clients", s.handleAPICreateClient())
	handle("GET", "api/admin/clients/{id}", s.handleAPIGetClient())
	handle("PATCH", "api/admin/clients/{id}", s.handleAPIUpdateClient())
	handle("DELETE", "api/admin/clients/{id}", s.handleAPIDeleteClient())
	handle("POST", "api/admin/clients/{id}/rotate-secret", s.handleAPIRotateSecret())
	handle("GET", "api/admin/clients/{id}/grants", s.handleAPIListGrants())
	handle("PUT", "api/admin/clients/{id}/grants", s.handleAPISetGrant())
	handle("DELETE", "api/admin/clients/{id}/grants", s.handleAPIDeleteGrant())
	handle("GET", "api/admin/apis", s.handleAPIListAPIs())
	handle("POST", "api/admin/apis", s.handleAPICreateAPI())
	handle("GET", "api/admin/apis/{id}", s.handleAPIGetAPI())
	handle("DELETE", "api/admin/apis/{id}", s.handleAPIDeleteAPI())
	handle("PUT", "api/admin/apis/{id}/scopes", s.handleAPISetScopes())
	handle("", "api/admin/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "There is no such admin API call: "+r.Method+" "+r.URL.Path+".", nil)
	}))
}
