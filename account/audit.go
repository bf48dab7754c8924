package account

import (
	"context"
	"net/netip"
	"time"
)

// Event types written to the audit log. They are stable: admins filter on them.
const (
	EventSignup          = "user.signup"
	EventSignupLimitHit  = "signup.limit_hit" // details.limit: "ip"
	EventUserCreated     = "user.created"
	EventLoginSucceeded  = "login.succeeded"
	EventLoginFailed     = "login.failed"
	EventLoginLocked     = "login.locked"
	EventLoginThrottled  = "login.throttled"
	EventLoginBlocked    = "login.blocked_user"
	EventPasswordChanged = "password.changed"
	EventPasswordRehash  = "password.rehashed"
	EventLogout          = "logout"

	EventVerificationSent  = "email.verification_sent"
	EventEmailVerified     = "user.email_verified" // details.by: "link", "operator" or "admin:<id>"
	EventResetRequested    = "password.reset_requested"
	EventResetSecondFactor = "password.reset_second_factor"
	EventPasswordReset     = "password.reset"
	EventMailLimitHit      = "mail.limit_hit"
)

// Event is one security-relevant fact. Subject names what the event is about
// when there is no user (the email typed into a failed login).
type Event struct {
	At        time.Time
	Type      string
	UserID    string
	Subject   string
	IP        netip.Addr
	UserAgent string
	RequestID string
	Details   map[string]any
}

// AuditLog stores events; it is append-only.
type AuditLog interface {
	Record(ctx context.Context, e Event) error
}
