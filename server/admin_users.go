package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
	"github.com/gatehouse-id/gatehouse/mfa"
	"github.com/gatehouse-id/gatehouse/passkey"
	"github.com/gatehouse-id/gatehouse/store"
)

// adminUsersData is the Users page: a search and one page of its results.
type adminUsersData struct {
	Query string
	Users []account.User
	Next  string // cursor of the next page, "" on the last
	// ByPhone says the query was read as a phone number.
	ByPhone bool
}

// handleAdminUsers lists users matching an email fragment, or the user
// whose verified phone is the number typed, found by its keyed hash.
func (s *Server) handleAdminUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		d := adminUsersData{Query: q}
		search := account.UserSearch{Text: q, After: r.URL.Query().Get("after")}
		if q != "" && !strings.Contains(q, "@") && s.mfa != nil {
			if lookup := s.mfa.PhoneLookup(q, ""); lookup != nil {
				search = account.UserSearch{PhoneLookup: lookup}
				d.ByPhone = true
			}
		}
		page, err := s.accounts.SearchUsers(r.Context(), search)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		d.Users, d.Next = page.Users, page.Next
		v := s.newAdminView(r, "users", "Users")
		v.Data = &d
		s.renderAdmin(w, r, http.StatusOK, "admin-users", v)
	})
}

// adminUserData is one user's page.
type adminUserData struct {
	User        account.User
	Self        bool
	MFA         mfa.Summary
	MFAEnabled  bool
	Passkeys    []passkeyView
	Sessions    []deviceView
	Browsers    []deviceView
	Assessments []adminAssessment
	Events      []adminEvent
	// ConfirmEmail is what was typed into the delete confirmation.
	ConfirmEmail string
	// UserMetadataText and AppMetadataText fill the metadata form: the
	// stored objects, or what was typed when it was refused.
	UserMetadataText, AppMetadataText string
}

// adminAssessment is an adaptive MFA assessment as the audit log keeps it.
type adminAssessment struct {
	At         string
	IP         string
	Confidence string `json:"confidence"`
	Decision   string `json:"decision"`
	Summary    string `json:"summary"`
	Findings   []struct {
		Signal      string `json:"signal"`
		Risk        string `json:"risk"`
		Reason      string `json:"reason"`
		Unavailable bool   `json:"unavailable"`
	} `json:"findings"`
}

// adminEvent is an audit entry as the console shows it.
type adminEvent struct {
	ID      int64
	At      string
	Type    string
	UserID  string
	Subject string
	IP      string
	Details string // compact JSON
}

func adminEvents(entries []store.AuditEntry) []adminEvent {
	out := make([]adminEvent, 0, len(entries))
	for _, e := range entries {
		details := e.Details
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(details)) == nil {
			details = buf.String()
		}
		if details == "{}" {
			details = ""
		}
		out = append(out, adminEvent{ID: e.ID, At: adminTime(e.At), Type: e.Type, UserID: e.UserID,
			Subject: e.Subject, IP: e.IP, Details: details})
	}
	return out
}

// adminTime is how the console writes a moment: in UTC, to the second.
func adminTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// adminTarget loads the user a user page or action names, or answers with
// a page that says what is wrong with the address.
func (s *Server) adminTarget(w http.ResponseWriter, r *http.Request) (account.User, bool) {
	id := r.PathValue("id")
	if !account.IsUUID(id) {
		s.renderMessage(w, r, http.StatusBadRequest, "Not a user id",
			"The address does not name a user: a user id looks like 3f2b8c1e-6a4d-4b7e-9c3a-1d2e3f4a5b6c. Find the user on the Users page.")
		return account.User{}, false
	}
	u, err := s.accounts.User(r.Context(), id)
	if errors.Is(err, account.ErrNotFound) {
		s.renderMessage(w, r, http.StatusNotFound, "No such user",
			"No user has this id. The user may have been deleted; find users on the Users page.")
		return account.User{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return account.User{}, false
	}
	return u, true
}

func (s *Server) adminUserView(r *http.Request, u account.User) (adminView, error) {
	ctx := r.Context()
	si := mustSession(r)
	d := adminUserData{User: u, Self: u.ID == si.user.ID, MFAEnabled: s.mfa != nil,
		UserMetadataText: indentedJSON(u.UserMetadata), AppMetadataText: indentedJSON(u.AppMetadata)}
	now := s.now()
	sessions, err := s.accounts.Sessions(ctx, u.ID)
	if err != nil {
		return adminView{}, err
	}
	for _, sess := range sessions {
		d.Sessions = append(d.Sessions, deviceView{Device: describeUserAgent(sess.UserAgent), IP: addrString(sess.IP),
			LastSeen: ago(now, sess.LastSeenAt), Until: adminTime(sess.ExpiresAt), Current: string(sess.IDHash()) == string(si.session.IDHash())})
	}
	if s.mfa != nil {
		if d.MFA, err = s.mfa.Summarize(ctx, u.ID); err != nil {
			return adminView{}, err
		}
		browsers, err := s.mfa.TrustedBrowsers(ctx, u.ID)
		if err != nil {
			return adminView{}, err
		}
		for _, b := range browsers {
			d.Browsers = append(d.Browsers, deviceView{Device: describeUserAgent(b.UserAgent), IP: addrString(b.CreatedIP),
				LastSeen: ago(now, b.LastUsedAt), Until: adminTime(b.ExpiresAt)})
		}
	}
	if d.Passkeys, err = s.userPasskeys(r, u.ID); err != nil {
		return adminView{}, err
	}
	assessed, err := s.store.AuditEvents(ctx, store.AuditFilter{UserID: u.ID, Type: "mfa.risk_assessed", Limit: 10})
	if err != nil {
		return adminView{}, err
	}
	for _, e := range assessed {
		a := adminAssessment{At: adminTime(e.At), IP: e.IP}
		if err := json.Unmarshal([]byte(e.Details), &a); err != nil {
			s.logger(ctx).Warn("unreadable risk assessment in the audit log", "id", e.ID, "err", err)
		}
		d.Assessments = append(d.Assessments, a)
	}
	recent, err := s.store.AuditEvents(ctx, store.AuditFilter{UserID: u.ID, Limit: 20})
	if err != nil {
		return adminView{}, err
	}
	d.Events = adminEvents(recent)
	v := s.newAdminView(r, "users", u.Email)
	v.Data = &d
	return v, nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// handleAdminUser shows one user: profile, factors, sessions, remembered
// browsers, risk assessments, recent events and the actions on them.
func (s *Server) handleAdminUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.adminTarget(w, r)
		if !ok {
			return
		}
		v, err := s.adminUserView(r, u)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.renderAdmin(w, r, http.StatusOK, "admin-user", v)
	})
}

// adminUserActions are the POSTs of a user page; each answers the notice
// shown after it.
var adminUserActions = map[string]func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error){
	"block": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		return "Blocked. Their sessions ended and their apps' tokens were revoked.", s.accounts.SetBlocked(r.Context(), u.ID, true, by, meta(r))
	},
	"unblock": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		return "Unblocked. They can log in again.", s.accounts.SetBlocked(r.Context(), u.ID, false, by, meta(r))
	},
	"promote": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		return "Now an admin.", s.accounts.SetAdmin(r.Context(), u.ID, true, by, meta(r))
	},
	"demote": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		return "No longer an admin.", s.accounts.SetAdmin(r.Context(), u.ID, false, by, meta(r))
	},
	"revoke-sessions": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		_, err := s.accounts.EndAllSessions(r.Context(), u.ID, by, meta(r))
		return "Logged out everywhere: sessions ended, tokens revoked, remembered browsers forgotten.", err
	},
	"verify-email": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		_, err := s.accounts.MarkEmailVerified(r.Context(), u.ID, by.Name, meta(r))
		return "Email address marked verified.", err
	},
	"reset-mfa": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		if s.mfa == nil {
			return "", errNoMFA
		}
		return "MFA reset: phone, authenticator app, passkeys and recovery codes removed.", s.mfa.ResetMFABy(r.Context(), u.ID, by.Name)
	},
	"remove-passkey": func(s *Server, r *http.Request, u account.User, by account.Actor) (string, error) {
		cred, err := s.removePasskeyBy(r, u, passkeyID(r.PostForm.Get("credential")), by.Name)
		return "Passkey " + strconv.Quote(cred.Name) + " removed. It can no longer sign in.", err
	},
}

// adminFactorActions remove factors. Removing factors, anyone's, is a change
// of factors: the admin proves a second factor again unless it passed
// minutes ago.
var adminFactorActions = map[string]bool{"reset-mfa": true, "remove-passkey": true}

var errNoMFA = errors.New("multi-factor authentication is not configured")

// handleAdminUserAction carries out one action on a user and shows the user
// page again with the outcome.
func (s *Server) handleAdminUserAction() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act, ok := adminUserActions[r.PathValue("action")]
		if !ok {
			s.renderError(w, r, http.StatusNotFound)
			return
		}
		u, ok := s.adminTarget(w, r)
		if !ok {
			return
		}
		si := mustSession(r)
		if adminFactorActions[r.PathValue("action")] {
			d, err := s.decide(r, si, assurance.Purpose{Action: assurance.ChangeFactors})
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			if d.Step != assurance.Done {
				s.renderDecision(w, r, d, s.base+"admin/users/"+u.ID)
				return
			}
		}
		notice, err := act(s, r, u, account.Actor{UserID: si.user.ID, Name: actor(si)})
		if err != nil {
			s.adminUserRefused(w, r, u, err, nil)
			return
		}
		s.seeOther(w, r, "admin/users/"+u.ID, notice)
	})
}

// handleAdminUserDelete deletes a user once the admin has typed the user's
// email address to confirm.
func (s *Server) handleAdminUserDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.adminTarget(w, r)
		if !ok {
			return
		}
		typed := strings.TrimSpace(r.PostForm.Get("confirm_email"))
		if !strings.EqualFold(typed, u.Email) {
			s.adminUserRefused(w, r, u, nil, func(d *adminUserData, v *adminView) {
				d.ConfirmEmail = typed
				v.Fields = map[string]string{"confirm_email": "Type the user's email address exactly to confirm the deletion."}
				v.Error = "Nothing was deleted: the confirmation did not match."
			})
			return
		}
		si := mustSession(r)
		if err := s.accounts.DeleteUser(r.Context(), u.ID, account.Actor{UserID: si.user.ID, Name: actor(si)}, meta(r)); err != nil {
			s.adminUserRefused(w, r, u, err, nil)
			return
		}
		s.seeOther(w, r, "admin/users", "Deleted "+u.Email+". Their entries stay in the logs.")
	})
}

// adminUserRefused shows the user page again with why an action did not
// happen: in words for the refusals an admin can understand, as a server
// error otherwise.
func (s *Server) adminUserRefused(w http.ResponseWriter, r *http.Request, u account.User, err error, adjust func(*adminUserData, *adminView)) {
	status, msg := http.StatusBadRequest, ""
	switch {
	case err == nil:
	case errors.Is(err, account.ErrSelf):
		msg = "You cannot block, demote or delete your own account. Ask another admin."
	case errors.Is(err, account.ErrLastAdmin):
		status, msg = http.StatusConflict, "This is the last active admin. Promote another user to admin first."
	case errors.Is(err, account.ErrNotFound):
		status, msg = http.StatusNotFound, "This user no longer exists."
	case errors.Is(err, errNoMFA):
		msg = "Multi-factor authentication is not configured on this server."
	case errors.Is(err, passkey.ErrUnknownCredential):
		status, msg = http.StatusConflict, "Nothing was removed: the user has no such passkey (any more). Here are the passkeys they have now."
	default:
		s.serverError(w, r, err)
		return
	}
	if status == http.StatusNotFound {
		s.renderMessage(w, r, status, "No such user", msg)
		return
	}
	v, verr := s.adminUserView(r, u)
	if verr != nil {
		s.serverError(w, r, verr)
		return
	}
	v.Error = msg
	if adjust != nil {
		adjust(v.Data.(*adminUserData), &v)
	}
	s.renderAdmin(w, r, status, "admin-user", v)
}
