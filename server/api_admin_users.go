package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/store"
)

// userJSON is a user as the admin API shows it. user_id is Gatehouse's id;
// subject is the sub of the user's tokens (an imported user's Auth0 id).
type userJSON struct {
	ID            string          `json:"user_id"`
	Subject       string          `json:"subject"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Name          string          `json:"name"`
	Admin         bool            `json:"admin"`
	Blocked       bool            `json:"blocked"`
	CreatedAt     time.Time       `json:"created_at"`
	LastLoginAt   *time.Time      `json:"last_login_at"`
	UserMetadata  json.RawMessage `json:"user_metadata"`
	AppMetadata   json.RawMessage `json:"app_metadata"`
}

func toUserJSON(u account.User) userJSON {
	j := userJSON{ID: u.ID, Subject: subjectOf(u), Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Admin: u.Admin,
		Blocked: u.Blocked, CreatedAt: u.CreatedAt, UserMetadata: metadataOf(u.UserMetadata), AppMetadata: metadataOf(u.AppMetadata)}
	if !u.LastLoginAt.IsZero() {
		j.LastLoginAt = &u.LastLoginAt
	}
	return j
}

// apiActor is the audit's "by" for a change made through the API.
func apiActor(c apiCaller) account.Actor { return account.Actor{Name: c.actor()} }

func metadataOf(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return account.EmptyMetadata
	}
	return m
}

// apiUser loads the user the path's {id} names: their id or their subject.
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	u, err := s.accounts.UserByReference(r.Context(), r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", "No user has this id.", nil)
		return u, false
	}
	if err != nil {
		s.apiServerError(w, r, err)
		return u, false
	}
	return u, true
}

// apiUserRefusal answers the refusals of the user actions; false means err
// was none of them.
func apiUserRefusal(w http.ResponseWriter, err error) bool {
	var metadata *account.MetadataError
	switch {
	case errors.As(err, &metadata):
		field, _, _ := strings.Cut(metadata.Field, ".")
		apiError(w, http.StatusBadRequest, "invalid_user", "Invalid change.", map[string]string{field: metadata.Error()})
	case errors.Is(err, account.ErrLastAdmin):
		apiError(w, http.StatusConflict, "last_admin", "This is the last active admin: promote another user first.", nil)
	case errors.Is(err, account.ErrNotFound):
		apiError(w, http.StatusNotFound, "not_found", "No user has this id.", nil)
	default:
		return false
	}
	return true
}

// handleAPIListUsers: GET api/admin/users?q=&after=&limit=. q matches part
// of the email address, or, when it is a phone number, the user whose
// verified phone it is (found through its keyed hash).
func (s *Server) handleAPIListUsers() http.Handler {
	return s.requireAdminScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		q := r.URL.Query()
		search := account.UserSearch{Text: strings.TrimSpace(q.Get("q")), After: q.Get("after")}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				apiError(w, http.StatusBadRequest, "invalid_query", "Invalid query parameters.", map[string]string{"limit": "must be from 1 to 500"})
				return
			}
			search.Limit = n
		}
		if s.mfa != nil && search.Text != "" && !strings.Contains(search.Text, "@") {
			if lookup := s.mfa.PhoneLookup(search.Text, ""); lookup != nil {
				search = account.UserSearch{PhoneLookup: lookup, Limit: search.Limit}
			}
		}
		page, err := s.accounts.SearchUsers(r.Context(), search)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		out := make([]userJSON, len(page.Users))
		for i, u := range page.Users {
			out[i] = toUserJSON(u)
		}
		resp := map[string]any{"users": out}
		if page.Next != "" {
			resp["next"] = page.Next
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// handleAPIGetUser: GET api/admin/users/{id}, with the user's factors and
// sessions.
func (s *Server) handleAPIGetUser() http.Handler {
	return s.requireAdminScope("read:users", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		type sessionJSON struct {
			Device    string    `json:"device"`
			IP        string    `json:"ip"`
			CreatedAt time.Time `json:"created_at"`
			LastSeen  time.Time `json:"last_seen_at"`
			AMR       []string  `json:"amr"`
		}
		out := struct {
			userJSON
			MFA      any           `json:"mfa"`
			Passkeys []passkeyJSON `json:"passkeys"`
			Sessions []sessionJSON `json:"sessions"`
		}{userJSON: toUserJSON(u), Passkeys: []passkeyJSON{}, Sessions: []sessionJSON{}}
		if s.mfa != nil {
			sum, err := s.mfa.Summarize(r.Context(), u.ID)
			if err != nil {
				s.apiServerError(w, r, err)
				return
			}
			out.MFA = map[string]any{"phone": sum.PhoneMasked, "authenticator_app": sum.TOTP,
				"recovery_codes_left": sum.RecoveryCodesLeft, "consecutive_failures": sum.Failures.Consecutive,
				"locked": sum.Failures.AccountLocked || s.now().Before(sum.Failures.LockedUntil)}
		}
		if s.passkeys != nil {
			creds, err := s.passkeys.List(r.Context(), u.ID)
			if err != nil {
				s.apiServerError(w, r, err)
				return
			}
			for _, c := range creds {
				out.Passkeys = append(out.Passkeys, toPasskeyJSON(c))
			}
		}
		sessions, err := s.accounts.Sessions(r.Context(), u.ID)
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		for _, sess := range sessions {
			ip := ""
			if sess.IP.IsValid() {
				ip = sess.IP.String()
			}
			out.Sessions = append(out.Sessions, sessionJSON{Device: sess.UserAgent, IP: ip, CreatedAt: sess.CreatedAt,
				LastSeen: sess.LastSeenAt, AMR: sess.AMR})
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// passkeyJSON is a user's passkey as the admin API shows it; id is the
// credential id in unpadded base64url, as WebAuthn writes it.
type passkeyJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Authenticator string     `json:"authenticator"`
	Synced        bool       `json:"synced"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	CloneWarning  bool       `json:"clone_warning"`
}

func toPasskeyJSON(c passkey.Credential) passkeyJSON {
	j := passkeyJSON{ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name, Authenticator: c.Authenticator,
		Synced: c.BackupEligible, CreatedAt: c.CreatedAt, CloneWarning: c.CloneWarning}
	if !c.LastUsedAt.IsZero() {
		j.LastUsedAt = &c.LastUsedAt
	}
	return j
}

// handleAPIRemovePasskey: DELETE api/admin/users/{id}/passkeys/{credential},
// the credential id as GET api/admin/users/{id} lists it.
func (s *Server) handleAPIRemovePasskey() http.Handler {
	return s.requireAdminScope("update:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		_, err := s.removePasskeyBy(r, u, passkeyID(r.PathValue("credential")), caller.actor())
		if errors.Is(err, passkey.ErrUnknownCredential) {
			apiError(w, http.StatusNotFound, "not_found", "The user has no passkey with this id.", nil)
			return
		}
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAPIUpdateUser: PATCH api/admin/users/{id} with any of "blocked",
// "admin", "email_verified" (true only: an address is not un-verified),
// "user_metadata" and "app_metadata" (each replaced by the object given).
func (s *Server) handleAPIUpdateUser() http.Handler {
	return s.requireAdminScope("update:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		var body struct {
			Blocked       *bool           `json:"blocked"`
			Admin         *bool           `json:"admin"`
			EmailVerified *bool           `json:"email_verified"`
			UserMetadata  json.RawMessage `json:"user_metadata"`
			AppMetadata   json.RawMessage `json:"app_metadata"`
		}
		if !decodeBody(w, r, &body) {
			return
		}
		if body.EmailVerified != nil && !*body.EmailVerified {
			apiError(w, http.StatusBadRequest, "invalid_user", "Invalid change.", map[string]string{"email_verified": "can only be set to true"})
			return
		}
		ctx, by := r.Context(), apiActor(caller)
		if body.UserMetadata != nil || body.AppMetadata != nil {
			_, err := s.accounts.ChangeMetadata(ctx, u.ID, account.MetadataChange{ReplaceUser: body.UserMetadata,
				ReplaceApp: body.AppMetadata}, by, meta(r))
			if err != nil {
				if !apiUserRefusal(w, err) {
					s.apiServerError(w, r, err)
				}
				return
			}
		}
		var err error
		if body.Blocked != nil && *body.Blocked != u.Blocked {
			err = s.accounts.SetBlocked(ctx, u.ID, *body.Blocked, by, meta(r))
		}
		if err == nil && body.Admin != nil && *body.Admin != u.Admin {
			err = s.accounts.SetAdmin(ctx, u.ID, *body.Admin, by, meta(r))
		}
		if err == nil && body.EmailVerified != nil && !u.EmailVerified {
			_, err = s.accounts.MarkEmailVerified(ctx, u.ID, by.Name, meta(r))
		}
		if err != nil {
			if !apiUserRefusal(w, err) {
				s.apiServerError(w, r, err)
			}
			return
		}
		if u, err = s.accounts.User(ctx, u.ID); err != nil {
			s.apiServerError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toUserJSON(u))
	})
}

// handleAPIUserAction: POST api/admin/users/{id}/reset-mfa or
// /revoke-sessions.
func (s *Server) handleAPIUserAction(action string) http.Handler {
	return s.requireAdminScope("update:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		var err error
		result := map[string]any{"user_id": u.ID}
		switch action {
		case "reset-mfa":
			if s.mfa == nil {
				apiError(w, http.StatusConflict, "no_mfa", "Multi-factor authentication is not configured on this server.", nil)
				return
			}
			err = s.mfa.ResetMFABy(r.Context(), u.ID, caller.actor())
		case "revoke-sessions":
			var ended account.AccessEnded
			ended, err = s.accounts.EndAllSessions(r.Context(), u.ID, apiActor(caller), meta(r))
			result["sessions"], result["tokens"], result["browsers"] = ended.Sessions, ended.Tokens, ended.Browsers
		}
		if err != nil {
			if !apiUserRefusal(w, err) {
				s.apiServerError(w, r, err)
			}
			return
		}
		writeJSON(w, http.StatusOK, result)
	})
}

// handleAPIDeleteUser: DELETE api/admin/users/{id}. The audit log keeps the
// user's entries.
func (s *Server) handleAPIDeleteUser() http.Handler {
	return s.requireAdminScope("delete:users", func(w http.ResponseWriter, r *http.Request, caller apiCaller) {
		u, ok := s.apiUser(w, r)
		if !ok {
			return
		}
		if err := s.accounts.DeleteUser(r.Context(), u.ID, apiActor(caller), meta(r)); err != nil {
			if !apiUserRefusal(w, err) {
				s.apiServerError(w, r, err)
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAPIStats: GET api/admin/stats, the dashboard's figures for the last
// hour, day and week, and how much of this hour's SMS budgets is spent.
func (s *Server) handleAPIStats() http.Handler {
	return s.requireAdminScope("read:stats", func(w http.ResponseWriter, r *http.Request, _ apiCaller) {
		a, err := s.store.Activity(r.Context(), s.now())
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		budgets, err := s.smsBudgets(r.Context())
		if err != nil {
			s.apiServerError(w, r, err)
			return
		}
		type counts struct {
			Hour int64 `json:"last_1h"`
			Day  int64 `json:"last_24h"`
			Week int64 `json:"last_7d"`
		}
		asJSON := func(c store.Counts) counts { return counts{c.Hour, c.Day, c.Week} }
		events := map[string]counts{}
		for k, c := range a.Events {
			events[k] = asJSON(c)
		}
		limits := map[string]counts{}
		var signups counts
		for _, l := range limitHitsOf(a) {
			if l.Kind == signupLimitKind {
				signups = asJSON(l.Counts)
				continue
			}
			limits[l.Kind] = asJSON(l.Counts)
		}
		type smsJSON struct {
			CountryCode int    `json:"country_code"`
			Sent        counts `json:"sent"`
			Delivered   counts `json:"delivered"`
			Failed      counts `json:"failed"`
		}
		sms := make([]smsJSON, len(a.SMS))
		for i, c := range a.SMS {
			sms[i] = smsJSON{c.CountryCode, asJSON(c.Sent), asJSON(c.Delivered), asJSON(c.Failed)}
		}
		type budgetJSON struct {
			Limit         string    `json:"limit"`
			WindowSeconds int64     `json:"window_seconds"`
			WindowEnd     time.Time `json:"window_end"`
			Sent          int       `json:"sent"`
			Max           int       `json:"max"`
		}
		spent := make([]budgetJSON, len(budgets))
		for i, b := range budgets {
			spent[i] = budgetJSON{b.Limit, int64(b.Window / time.Second), b.WindowEnd.UTC(), b.Sent, b.Max}
		}
		writeJSON(w, http.StatusOK, map[string]any{"at": s.now().UTC(), "events": events, "limit_hits": limits,
			"passkey_logins": asJSON(a.Passkeys), "signup_limit_hits": signups, "sms_budgets": spent, "sms_by_country": sms})
	})
}
