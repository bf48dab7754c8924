package server

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse-id/gatehouse/assurance"
)

// discoveryDocument is the OpenID Provider metadata (OpenID Connect Discovery
// 1.0 §3), also served as OAuth 2.0 authorization server metadata (RFC 8414
// §2); built once, served as is. Every field states what the server does:
// request_uri_parameter_supported, for one, defaults to true when absent.
func (s *Server) discoveryDocument() ([]byte, error) {
	i := s.cfg.Issuer.String()
	return json.Marshal(map[string]any{
		"issuer":                                i,
		"authorization_endpoint":                i + "authorize",
		"token_endpoint":                        i + "oauth/token",
		"userinfo_endpoint":                     i + "userinfo",
		"jwks_uri":                              i + ".well-known/jwks.json",
		"revocation_endpoint":                   i + "oauth/revoke",
		"introspection_endpoint":                i + "oauth/introspect",
		"end_session_endpoint":                  i + "oidc/logout",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post", "web_message"},
		"grant_types_supported":                 grantTypesSupported,
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		// RFC 7009 lets a public client revoke its own tokens with its id
		// alone; introspection is for confidential clients only.
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":              []string{"S256"},
		"scopes_supported":                              scopesSupported,
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "azp",
			"name", "nickname", "picture", "updated_at", "email", "email_verified"},
		"claim_types_supported":           []string{"normal"},
		"request_parameter_supported":     false,
		"request_uri_parameter_supported": false,
		"frontchannel_logout_supported":   false,
		"backchannel_logout_supported":    false,
		"claims_parameter_supported":      false,
		"prompt_values_supported":         []string{"none", "login"},
		"acr_values_supported":            []string{acrMultiFactor, assurance.PhishingResistant},
	})
}

func (s *Server) handleDiscovery() http.Handler {
	doc, err := s.discoveryDocument()
	if err != nil {
		panic(err) // only static data: cannot fail
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicJSON(w.Header(), cacheHour)
		w.Write(doc)
	})
}

// Header values of the public documents, shared by every response: net/http
// only reads them, and Set or Add elsewhere replaces a slice rather than
// writing into it.
var (
	jsonContentType = []string{"application/json"}
	anyOrigin       = []string{"*"}
	cacheHour       = []string{"public, max-age=3600"}
	cacheFiveMin    = []string{"public, max-age=300"}
)

// publicJSON sets the headers of a public JSON document that any origin may
// read and cache for the given time.
func publicJSON(h http.Header, cacheControl []string) {
	h["Content-Type"] = jsonContentType
	h["Access-Control-Allow-Origin"] = anyOrigin
	h["Cache-Control"] = cacheControl
}

// handleJWKS serves the published signing keys, as bytes the key manager
// builds only when the set changes. The next key is published before it
// signs anything, so caching for a few minutes is safe.
func (s *Server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := s.keys.JWKS(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		publicJSON(w.Header(), cacheFiveMin)
		w.Write(set)
	})
}
