package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Audit event types of administrators' actions on users. Each carries
// details.by, the admin or operator who acted.
const (
	EventUserBlocked     = "user.blocked"
	EventUserUnblocked   = "user.unblocked"
	EventUserPromoted    = "user.promoted"
	EventUserDemoted     = "user.demoted"
	EventUserDeleted     = "user.deleted"
	EventSessionsRevoked = "user.sessions_revoked"
)

// Errors of administrators' actions.
var (
	// ErrSelf refuses an admin blocking, demoting or deleting their own
	// account: they would lock themselves out mid-task.
	ErrSelf = errors.New("an admin cannot do this to their own account")
	// ErrLastAdmin refuses taking away the last active (unblocked) admin,
	// which would leave nobody able to use the console.
	ErrLastAdmin = errors.New("the last active admin cannot be blocked, demoted or deleted")
)

// Actor is who performs an administrative action. UserID is the acting
// admin's account, empty for an operator at the command line; Name is what
// the audit log's details.by says ("admin:ann@example.com", "cli:root").
type Actor struct {
	UserID string
	Name   string
}

// UserSearch selects users for the admin's list. Text matches anywhere in
// the email address, ignoring case, or the whole of a user's subject
// ("auth0|60d5…"). PhoneLookup, when set, is the phone vault's keyed hash of
// a number: only the user whose verified phone it is matches, so no number
// is ever decrypted to search. After is the cursor of the previous page
// (UserPage.Next).
type UserSearch struct {
	Text        string
	Subject     string // set by SearchUsers: Text as typed, to match a subject exactly
	PhoneLookup []byte
	After       string
	Limit       int // default 50, at most 500
}

// UserPage is one page of a search; Next is empty on the last page.
type UserPage struct {
	Users []User
	Next  string
}

// AccessEnded counts what ending a user's access removed.
type AccessEnded struct {
	Sessions int64 // browser sessions
	Tokens   int64 // OAuth codes, access and refresh tokens
	Browsers int64 // browsers remembered past the second factor
}

// Directory is the storage of administrators' actions on users. The changes
// that could take away an admin (SetBlocked true, SetAdmin false,
// DeleteUser) answer ErrLastAdmin, atomically, when the user is the last
// active admin.
type Directory interface {
	SearchUsers(ctx context.Context, q UserSearch) (UserPage, error)
	SetBlocked(ctx context.Context, id string, blocked bool) error
	SetAdmin(ctx context.Context, id string, admin bool) error
	// EndUserAccess deletes the user's sessions and OAuth tokens, and with
	// browsers their remembered browsers, in one transaction.
	EndUserAccess(ctx context.Context, id string, browsers bool) (AccessEnded, error)
	// DeleteUser deletes the user with everything that is theirs but the
	// audit log, in one transaction.
	DeleteUser(ctx context.Context, id string) (AccessEnded, error)
}

// SearchUsers lists users matching q in email order.
func (s *Service) SearchUsers(ctx context.Context, q UserSearch) (UserPage, error) {
	q.Subject = strings.TrimSpace(q.Text)
	q.Text = strings.ToLower(q.Subject)
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	page, err := s.dir.SearchUsers(ctx, q)
	if err != nil {
		return UserPage{}, fmt.Errorf("search users: %w", err)
	}
	return page, nil
}

// SetBlocked blocks or unblocks a user. A blocked user's sessions end and
// OAuth tokens are revoked at once: refresh tokens stop working, so apps
// lose access at the next refresh; their login is refused from then on.
// Setting the state the user already has is not an error and not audited.
func (s *Service) SetBlocked(ctx context.Context, userID string, blocked bool, by Actor, m Meta) error {
	u, err := s.target(ctx, userID, by, blocked)
	if err != nil {
		return err
	}
	if u.Blocked == blocked {
		return nil
	}
	if err := s.dir.SetBlocked(ctx, u.ID, blocked); err != nil {
		return fmt.Errorf("set blocked of user %s: %w", u.ID, err)
	}
	e := Event{Type: EventUserUnblocked, UserID: u.ID, Subject: u.Email, Details: map[string]any{"by": by.Name}}
	if blocked {
		ended, err := s.dir.EndUserAccess(ctx, u.ID, false)
		if err != nil {
			return fmt.Errorf("end access of blocked user %s: %w", u.ID, err)
		}
		e.Type = EventUserBlocked
		e.Details["sessions"], e.Details["tokens"] = ended.Sessions, ended.Tokens
	}
	s.record(ctx, e, m)
	return nil
}

// EndAllSessions logs the user out everywhere: browser sessions, OAuth
// tokens (apps must send the user through login again) and remembered
// browsers (the next login passes the second factor again).
func (s *Service) EndAllSessions(ctx context.Context, userID string, by Actor, m Meta) (AccessEnded, error) {
	u, err := s.users.UserByID(ctx, userID)
	if err != nil {
		return AccessEnded{}, fmt.Errorf("end sessions: %w", err)
	}
	ended, err := s.dir.EndUserAccess(ctx, u.ID, true)
	if err != nil {
		return AccessEnded{}, fmt.Errorf("end sessions of user %s: %w", u.ID, err)
	}
	s.record(ctx, Event{Type: EventSessionsRevoked, UserID: u.ID, Subject: u.Email, Details: map[string]any{
		"by": by.Name, "sessions": ended.Sessions, "tokens": ended.Tokens, "browsers": ended.Browsers}}, m)
	return ended, nil
}

// SetAdmin gives or takes the admin role. An admin cannot demote
// themselves, and the last active admin cannot be demoted.
func (s *Service) SetAdmin(ctx context.Context, userID string, admin bool, by Actor, m Meta) error {
	u, err := s.target(ctx, userID, by, !admin)
	if err != nil {
		return err
	}
	if u.Admin == admin {
		return nil
	}
	if err := s.dir.SetAdmin(ctx, u.ID, admin); err != nil {
		return fmt.Errorf("set admin of user %s: %w", u.ID, err)
	}
	typ := EventUserDemoted
	if admin {
		typ = EventUserPromoted
	}
	s.record(ctx, Event{Type: typ, UserID: u.ID, Subject: u.Email, Details: map[string]any{"by": by.Name}}, m)
	return nil
}

// DeleteUser deletes the user, their sessions, tokens, factors and
// remembered browsers. The audit log keeps its entries about them. An admin
// cannot delete themselves, and the last active admin cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, userID string, by Actor, m Meta) error {
	u, err := s.target(ctx, userID, by, true)
	if err != nil {
		return err
	}
	ended, err := s.dir.DeleteUser(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", u.ID, err)
	}
	s.record(ctx, Event{Type: EventUserDeleted, UserID: u.ID, Subject: u.Email, Details: map[string]any{
		"by": by.Name, "admin": u.Admin, "sessions": ended.Sessions, "tokens": ended.Tokens}}, m)
	return nil
}

// target loads the user an action is about; an action that takes something
// away (removing) is refused on the actor's own account.
func (s *Service) target(ctx context.Context, userID string, by Actor, removing bool) (User, error) {
	if removing && by.UserID != "" && by.UserID == userID {
		return User{}, ErrSelf
	}
	u, err := s.users.UserByID(ctx, userID)
	if err != nil {
		return User{}, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// UserByEmail returns the user with this email address, ignoring case.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.users.UserByEmail(ctx, strings.TrimSpace(email))
}
