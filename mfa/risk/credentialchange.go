package risk

import (
	"context"
	"strings"
	"time"
)

// CredentialChanges tells when a user's password and phone last changed;
// zero times when never.
type CredentialChanges interface {
	Credentials(ctx context.Context, userID string) (passwordChangedAt, phoneChangedAt time.Time, err error)
}

// RecentCredentialChange is Medium when the password or the phone number
// changed within Window before the attempt: an account taker's first moves.
type RecentCredentialChange struct {
	Credentials CredentialChanges
	Window      time.Duration // 0 means 7 days
}

const defaultCredentialWindow = 7 * 24 * time.Hour

func (RecentCredentialChange) Name() string { return "recent_credential_change" }

func (s RecentCredentialChange) Assess(ctx context.Context, a Attempt) (Finding, error) {
	password, phone, err := s.Credentials.Credentials(ctx, a.UserID)
	if err != nil {
		return Finding{}, err
	}
	window := s.Window
	if window <= 0 {
		window = defaultCredentialWindow
	}
	var changes []string
	for _, c := range []struct {
		what string
		at   time.Time
	}{{"password", password}, {"phone number", phone}} {
		if !c.at.IsZero() && a.At.Sub(c.at) <= window {
			changes = append(changes, "the "+c.what+" changed "+about(max(a.At.Sub(c.at), 0))+" ago")
		}
	}
	if len(changes) == 0 {
		return Finding{Risk: None, Reason: "No password or phone change in the last " + about(window) + "."}, nil
	}
	r := strings.Join(changes, "; ")
	return Finding{Risk: Medium, Reason: strings.ToUpper(r[:1]) + r[1:] + "."}, nil
}
