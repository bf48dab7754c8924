package server

import "net/http"

// adminRoutes lists the admin console. Every route is behind requireAdmin.
func (s *Server) adminRoutes(handle func(method, path string, h http.Handler)) {
	admin := func(method, path string, h http.Handler) { handle(method, path, s.requireAdmin(h)) }

	admin("GET", "admin/{$}", s.handleAdminHome())
	admin("GET", "admin/mfa", s.handleAdminMFA())
	admin("POST", "admin/mfa", s.handleAdminMFASave())
	admin("POST", "admin/mfa/test", s.handleAdminSMSTest())
	admin("GET", "admin/users", s.handleAdminUsers())
	admin("GET", "admin/users/{id}", s.handleAdminUser())
	admin("POST", "admin/users/{id}/delete", s.handleAdminUserDelete())
	admin("POST", "admin/users/{id}/{action}", s.handleAdminUserAction())
	admin("GET", "admin/logs", s.handleAdminLogs())
}
