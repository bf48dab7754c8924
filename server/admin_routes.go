package server

import "net/http"

// adminRoutes lists the admin console. Every route is behind requireAdmin
// but the test login's callback (see admin_try.go).
func (s *Server) adminRoutes(handle func(method, path string, h http.Handler)) {
	admin := func(method, path string, h http.Handler) { handle(method, path, s.requireAdmin(h)) }

	admin("GET", "admin/{$}", s.handleAdminHome())
	admin("GET", "admin/mfa", s.handleAdminMFA())
	admin("POST", "admin/mfa", s.handleAdminMFASave())
	admin("POST", "admin/mfa/test", s.handleAdminSMSTest())
	admin("GET", "admin/users", s.handleAdminUsers())
	admin("GET", "admin/users/{id}", s.handleAdminUser())
	admin("POST", "admin/users/{id}/delete", s.handleAdminUserDelete())
	admin("POST", "admin/users/{id}/metadata", s.handleAdminUserMetadata())
	admin("POST", "admin/users/{id}/{action}", s.handleAdminUserAction())
	admin("GET", "admin/logs", s.handleAdminLogs())
	admin("POST", "admin/logs", s.handleAdminLogsRetention())

	admin("GET", "admin/applications", s.handleAdminApps())
	admin("POST", "admin/applications", s.handleAdminAppCreate())
	admin("GET", "admin/applications/{id}", s.handleAdminApp())
	admin("POST", "admin/applications/{id}", s.handleAdminAppSave())
	admin("POST", "admin/applications/{id}/rotate-secret", s.handleAdminAppRotate())
	admin("POST", "admin/applications/{id}/delete", s.handleAdminAppDelete())
	admin("GET", "admin/applications/{id}/branding", s.handleAdminBranding())
	admin("POST", "admin/applications/{id}/branding", s.handleAdminBrandingSave())

	admin("GET", "admin/apis", s.handleAdminAPIs())
	admin("POST", "admin/apis", s.handleAdminAPICreate())
	admin("GET", "admin/apis/{id}", s.handleAdminAPI())
	admin("POST", "admin/apis/{id}", s.handleAdminAPISave())
	admin("POST", "admin/apis/{id}/scopes", s.handleAdminAPIScopes())
	admin("POST", "admin/apis/{id}/grants", s.handleAdminAPIGrant())
	admin("POST", "admin/apis/{id}/delete", s.handleAdminAPIDelete())

	admin("GET", "admin/applications/{id}/claims", s.handleAdminClaims())
	admin("POST", "admin/applications/{id}/claims", s.handleAdminClaimsSave())
	admin("POST", "admin/apis/{id}/rbac", s.handleAdminAPIRBAC())
	admin("GET", "admin/roles", s.handleAdminRoles())
	admin("POST", "admin/roles", s.handleAdminRoleCreate())
	admin("GET", "admin/roles/{id}", s.handleAdminRole())
	admin("POST", "admin/roles/{id}", s.handleAdminRoleSave())
	admin("POST", "admin/roles/{id}/permissions", s.handleAdminRolePermissions())
	admin("POST", "admin/roles/{id}/delete", s.handleAdminRoleDelete())
	admin("GET", "admin/users/{id}/roles", s.handleAdminUserRoles())
	admin("POST", "admin/users/{id}/roles", s.handleAdminUserRolesChange())

	admin("GET", "admin/try", s.handleAdminTry())
	admin("POST", "admin/try", s.handleAdminTryStart())
	// The test login replaces the browser's session with whoever logged in,
	// so its callback is admitted by the try cookie, not requireAdmin.
	handle("GET", "admin/try/callback", s.handleAdminTryCallback())
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
	handle("PATCH", "api/admin/apis/{id}", s.handleAPIUpdateAPI())
	handle("DELETE", "api/admin/apis/{id}", s.handleAPIDeleteAPI())
	handle("PUT", "api/admin/apis/{id}/scopes", s.handleAPISetScopes())
	handle("GET", "api/admin/users", s.handleAPIListUsers())
	handle("GET", "api/admin/users/{id}", s.handleAPIGetUser())
	handle("PATCH", "api/admin/users/{id}", s.handleAPIUpdateUser())
	handle("DELETE", "api/admin/users/{id}", s.handleAPIDeleteUser())
	handle("DELETE", "api/admin/users/{id}/passkeys/{credential}", s.handleAPIRemovePasskey())
	handle("POST", "api/admin/users/{id}/reset-mfa", s.handleAPIUserAction("reset-mfa"))
	handle("POST", "api/admin/users/{id}/revoke-sessions", s.handleAPIUserAction("revoke-sessions"))
	handle("GET", "api/admin/stats", s.handleAPIStats())
	handle("GET", "api/admin/clients/{id}/claims", s.handleAPIGetClaims())
	handle("PUT", "api/admin/clients/{id}/claims", s.handleAPISetClaims())
	handle("GET", "api/admin/roles", s.handleAPIListRoles())
	handle("POST", "api/admin/roles", s.handleAPICreateRole())
	handle("GET", "api/admin/roles/{id}", s.handleAPIGetRole())
	handle("PATCH", "api/admin/roles/{id}", s.handleAPIUpdateRole())
	handle("DELETE", "api/admin/roles/{id}", s.handleAPIDeleteRole())
	handle("PUT", "api/admin/roles/{id}/permissions", s.handleAPISetRolePermissions())
	handle("GET", "api/admin/users/{id}/roles", s.handleAPIUserRoles())
	handle("POST", "api/admin/users/{id}/roles", s.handleAPIChangeUserRoles(true))
	handle("DELETE", "api/admin/users/{id}/roles", s.handleAPIChangeUserRoles(false))
	handle("GET", "api/admin/apis/{id}/rbac", s.handleAPIGetRBAC())
	handle("PUT", "api/admin/apis/{id}/rbac", s.handleAPISetRBAC())
	handle("GET", "api/admin/clients/{id}/branding", s.handleAPIGetBranding())
	handle("PATCH", "api/admin/clients/{id}/branding", s.handleAPIUpdateBranding())
	handle("PUT", "api/admin/clients/{id}/branding/logo", s.handleAPIPutLogo())
	handle("DELETE", "api/admin/clients/{id}/branding/logo", s.handleAPIDeleteLogo())
	handle("", "api/admin/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "There is no such admin API call: "+r.Method+" "+r.URL.Path+".", nil)
	}))
}
