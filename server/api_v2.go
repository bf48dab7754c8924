package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// The Management API under api/v2/ is the part of Auth0's Management API v2
// that SPAs' backends call through the auth0 package's ManagementClient: read
// a user, look one up by email, search by email or user_id, and patch
// metadata. Paths, query parameters, JSON shapes and errors are Auth0's, and
// a user's user_id is their subject, the sub of their tokens. Callers are
// machine-to-machine applications with a token for <issuer>api/v2/ carrying
// read:users or update:users, checked against their grant on every call, as
// for the admin API.

// ManagementAPIPath is where the Management API lives under the issuer; with
// the issuer in front it is the API's identifier, the audience Auth0's SDKs
// ask for.
const ManagementAPIPath = "api/v2/"

// ManagementScopes are the scopes of the Management API subset.
var ManagementScopes = []clients.Scope{
	{Value: "read:users", Description: "Read users and their metadata (Auth0 Management API)"},
	{Value: "update:users", Description: "Change users' metadata, name, blocked and email_verified (Auth0 Management API)"},
}

// ManagementAudience is the Management API's identifier.
func (s *Server) ManagementAudience() string { return s.cfg.Issuer.String() + ManagementAPIPath }

// builtInAPI tells the APIs Gatehouse registers itself, whose scopes are
// fixed and which cannot be deleted.
func (s *Server) builtInAPI(identifier string) bool {
	return identifier == s.AdminAudience() || identifier == s.ManagementAudience()
}

// managementRoutes lists the Management API.
func (s *Server) managementRoutes(handle func(method, path string, h http.Handler)) {
	handle("GET", "api/v2/users", s.handleV2ListUsers())
	handle("GET", "api/v2/users/{id}", s.handleV2GetUser())
	handle("PATCH", "api/v2/users/{id}", s.handleV2PatchUser())
	handle("GET", "api/v2/users-by-email", s.handleV2UsersByEmail())
	handle("", "api/v2/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "Gatehouse serves only part of the Management API; "+
			r.Method+" "+r.URL.Path+" is not part of it. See docs/admin-api.md.", nil)
	}))
}

// requireManagementScope admits a machine-to-machine token for the
// Management API that carries scope and whose grant still does.
func (s *Server) requireManagementScope(scope string, next apiHandler) http.Handler {
	return s.requireScope(s.ManagementAudience(), "Management API", scope, next)
}

// v2User is a user in the Management API's shape.
type v2User struct {
	UserID        string          `json:"user_id"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Name          string          `json:"name"`
	Nickname      string          `json:"nickname"`
	Picture       string          `json:"picture"`
	CreatedAt     string          `json:"created_at"`
	UpdatedAt     string          `json:"updated_at"`
	LastLogin     string          `json:"last_login,omitempty"`
	Blocked       bool            `json:"blocked,omitempty"`
	Identities    []v2Identity    `json:"identities"`
	UserMetadata  json.RawMessage `json:"user_metadata"`
	AppMetadata   json.RawMessage `json:"app_metadata"`
}

// v2Identity is the user's one identity: Gatehouse has a database
// connection only, named as Auth0 names its default one.
type v2Identity struct {
	Connection string `json:"connection"`
	Provider   string `json:"provider"`
	UserID     string `json:"user_id"`
	IsSocial   bool   `json:"isSocial"`
}

// auth0Time is how the Management API writes times.
func auth0Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Server) toV2User(u account.User) v2User {
	sub := subjectOf(u)
	provider, id, ok := strings.Cut(sub, "|")
	if !ok {
		provider, id = "auth0", sub
	}
	claims := s.userClaims(u, []string{"profile"})
	v := v2User{UserID: sub, Email: u.Email, EmailVerified: u.EmailVerified, Name: claims["name"].(string),
		Nickname: claims["nickname"].(string), Picture: claims["picture"].(string), CreatedAt: auth0Time(u.CreatedAt),
		UpdatedAt: auth0Time(u.UpdatedAt), Blocked: u.Blocked, UserMetadata: metadataOf(u.UserMetadata), AppMetadata: metadataOf(u.AppMetadata),
		Identities: []v2Identity{{Connection: "Username-Password-Authentication", Provider: provider, UserID: id}}}
	if !u.LastLoginAt.IsZero() {
		v.LastLogin = auth0Time(u.LastLoginAt)
	}
	return v
}

// fieldsOf applies Auth0's fields and include_fields parameters: the
// comma-separated fields only, or (include_fields=false) all but them.
func fieldsOf(r *http.Request, v v2User) (any, error) {
	q := r.URL.Query()
	fields := q.Get("fields")
	if fields == "" {
		return v, nil
	}
	include := true
	if inc := q.Get("include_fields"); inc != "" {
		b, err := strconv.ParseBool(inc)
		if err != nil {
			return nil, errors.New("include_fields must be true or false")
		}
		include = b
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		named[strings.TrimSpace(f)] = true
	}
	out := map[string]json.RawMessage{}
	for k, val := range all {
		if named[k] == include {
			out[k] = val
		}
	}
	return out, nil
}

// v2Users renders users with the fields asked for.
func (s *Server) v2Users(r *http.Request, users []account.User) ([]any, error) {
	out := make([]any, 0, len(users))
	for _, u := range users {
		v, err := fieldsOf(r, s.toV2User(u))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// v2User loads the user the path's {id} names: their user_id (subject), or
// Gatehouse's id.
func (s *Server) v2User(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	u, err := s.accounts.UserByReference(r.Context(), r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		apiError(w, http.StatusNotFound, "inexistent_user", "The user does not exist.", nil)
		return u, false
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return u, false
	}
	return u, true
}

// handleV2GetUser: GET api/v2/users/{id}[?fields=&include_fields=].
func (s *Server) handleV2GetUser() http.Handler {
	return s.requireManagementScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		u, ok := s.v2User(w, r)
		if !ok {
			return
		}
		v, err := fieldsOf(r, s.toV2User(u))
		if err != nil {
			apiError(w, http.StatusBadRequest, "invalid_query_string", "Query validation error: "+err.Error()+".", nil)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// handleV2UsersByEmail: GET api/v2/users-by-email?email=, an array of the
// users with that address: at most one here, as addresses are unique.
func (s *Server) handleV2UsersByEmail() http.Handler {
	return s.requireManagementScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		email := strings.TrimSpace(r.URL.Query().Get("email"))
		if email == "" {
			apiError(w, http.StatusBadRequest, "invalid_query_string",
				"Query validation error: 'Missing required property: email' on property email (Email address to search for).", nil)
			return
		}
		var users []account.User
		u, err := s.accounts.UserByEmail(r.Context(), email)
		switch {
		case err == nil:
			users = append(users, u)
		case !errors.Is(err, account.ErrNotFound):
			s.apiServerError(w, r, err)
			return
		}
		out, err := s.v2Users(r, users)
		if err != nil {
			apiError(w, http.StatusBadRequest, "invalid_query_string", "Query validation error: "+err.Error()+".", nil)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// v2Query is the part of Auth0's user search (Lucene syntax, search_engine
// v3) that backends use to find one user: email:"…" or user_id:"…".
var v2Query = regexp.MustCompile(`^(email|user_id):(?:"([^"]*)"|(\S+))$`)

// maxV2Results is Auth0's cap on what a search can page through.
const maxV2Results = 1000

// handleV2ListUsers: GET api/v2/users?q=&search_engine=v3&page=&per_page=
// &include_totals=. q is empty (every user, in email order), or one
// email:"…" or user_id:"…" term.
func (s *Server) handleV2ListUsers() http.Handler {
	return s.requireManagementScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		q := r.URL.Query()
		bad := func(msg string) {
			apiError(w, http.StatusBadRequest, "invalid_query_string", "Query validation error: "+msg, nil)
		}
		if e := q.Get("search_engine"); e != "" && e != "v3" {
			bad("search_engine must be v3; Gatehouse has no other.")
			return
		}
		page, perPage := 0, 50
		var err error
		if v := q.Get("page"); v != "" {
			if page, err = strconv.Atoi(v); err != nil || page < 0 {
				bad("page must be a whole number from 0.")
				return
			}
		}
		if v := q.Get("per_page"); v != "" {
			if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 100 {
				bad("per_page must be from 1 to 100.")
				return
			}
		}
		totals := false
		if v := q.Get("include_totals"); v != "" {
			if totals, err = strconv.ParseBool(v); err != nil {
				bad("include_totals must be true or false.")
				return
			}
		}
		var users []account.User
		total := 0
		if text := strings.TrimSpace(q.Get("q")); text != "" {
			m := v2Query.FindStringSubmatch(text)
			if m == nil {
				bad(`Gatehouse searches by one email:"…" or user_id:"…" term only.`)
				return
			}
			value := m[2] + m[3]
			var u account.User
			if m[1] == "email" {
				u, err = s.accounts.UserByEmail(r.Context(), value)
			} else {
				u, err = s.accounts.UserByReference(r.Context(), value)
			}
			switch {
			case err == nil:
				total = 1
				if page == 0 {
					users = []account.User{u}
				}
			case !errors.Is(err, account.ErrNotFound):
				s.apiServerError(w, r, err)
				return
			}
		} else {
			if (page+1)*perPage > maxV2Results {
				bad("page and per_page reach past the first 1000 users, which is as far as a search pages.")
				return
			}
			if users, total, err = s.v2Page(r, page, perPage); err != nil {
				s.apiServerError(w, r, err)
				return
			}
		}
		out, err := s.v2Users(r, users)
		if err != nil {
			bad(err.Error() + ".")
			return
		}
		if !totals {
			writeJSON(w, http.StatusOK, out)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"start": page * perPage, "limit": perPage, "length": len(out),
			"total": total, "users": out})
	})
}

// v2Page is one page of every user in email order, and how many there are
// up to the search cap. It walks the cursor pages of the admin search; the
// cap keeps that to a few hundred rows.
func (s *Server) v2Page(r *http.Request, page, perPage int) ([]account.User, int, error) {
	var all []account.User
	after := ""
	for len(all) < maxV2Results {
		p, err := s.accounts.SearchUsers(r.Context(), account.UserSearch{After: after, Limit: 500})
		if err != nil {
			return nil, 0, err
		}
		all = append(all, p.Users...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	all = all[:min(len(all), maxV2Results)]
	start := min(page*perPage, len(all))
	return all[start:min(start+perPage, len(all))], len(all), nil
}

// handleV2PatchUser: PATCH api/v2/users/{id} with user_metadata and
// app_metadata (merged as Auth0 merges them: top-level keys, null removes
// one, {} clears), name, blocked and email_verified (true only).
func (s *Server) handleV2PatchUser() http.Handler {
	return s.requireManagementScope("update:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.v2User(w, r)
		if !ok {
			return
		}
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				apiError(w, http.StatusRequestEntityTooLarge, "body_too_large", "Payload validation error: the request body is too large.", nil)
				return
			}
			apiError(w, http.StatusBadRequest, "invalid_body", "Payload validation error: the body must be a JSON object.", nil)
			return
		}
		var unknown []string
		for k := range body {
			switch k {
			case "user_metadata", "app_metadata", "blocked", "email_verified", "connection":
			default:
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			apiError(w, http.StatusBadRequest, "invalid_body", "Payload validation error: 'Additional properties not allowed: "+
				strings.Join(unknown, ",")+"'. Gatehouse changes user_metadata, app_metadata, blocked and email_verified.", nil)
			return
		}
		var blocked, verified *bool
		for k, dst := range map[string]**bool{"blocked": &blocked, "email_verified": &verified} {
			if raw, ok := body[k]; ok {
				var b bool
				if err := json.Unmarshal(raw, &b); err != nil {
					apiError(w, http.StatusBadRequest, "invalid_body", "Payload validation error: '"+k+"' must be true or false.", nil)
					return
				}
				*dst = &b
			}
		}
		if verified != nil && !*verified && u.EmailVerified {
			apiError(w, http.StatusBadRequest, "invalid_body", "Payload validation error: email_verified can only be set to true.", nil)
			return
		}
		ctx, by := r.Context(), apiActor(caller)
		var err error
		if body["user_metadata"] != nil || body["app_metadata"] != nil {
			_, err = s.accounts.ChangeMetadata(ctx, u.ID, account.MetadataChange{MergeUser: body["user_metadata"],
				MergeApp: body["app_metadata"]}, by, meta(r))
		}
		if err == nil && blocked != nil && *blocked != u.Blocked {
			err = s.accounts.SetBlocked(ctx, u.ID, *blocked, by, meta(r))
		}
		if err == nil && verified != nil && *verified && !u.EmailVerified {
			_, err = s.accounts.MarkEmailVerified(ctx, u.ID, by.Name, meta(r))
		}
		var bad *account.MetadataError
		switch {
		case errors.As(err, &bad):
			apiError(w, http.StatusBadRequest, "invalid_body", "Payload validation error: "+bad.Error()+".", nil)
			return
		case errors.Is(err, account.ErrLastAdmin):
			apiError(w, http.StatusConflict, "last_admin", "This is the last active admin of Gatehouse; it cannot be blocked.", nil)
			return
		case errors.Is(err, account.ErrNotFound):
			apiError(w, http.StatusNotFound, "inexistent_user", "The user does not exist.", nil)
			return
		case err != nil:
			s.apiServerError(w, r, err)
			return
		}
		if u, err = s.accounts.User(ctx, u.ID); err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.toV2User(u))
	})
}
