package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-id/gatehouse/account"
)

// Audit events of remembered browsers.
const (
	EventBrowserTrusted    = "mfa.browser_trusted"
	EventBrowserForgotten  = "mfa.browser_forgotten"
	EventBrowsersForgotten = "mfa.browsers_forgotten" // details.reason, details.count
)

// ErrNotTrusted answers a device token or browser id that names no unexpired
// trusted browser of the user.
var ErrNotTrusted = errors.New("browser not trusted")

const (
	trustTokenBytes = 32
	// touchEvery spares a write on every request of a remembered browser.
	touchEvery = time.Minute
	// maxUserAgent bounds what a client can make us store.
	maxUserAgent = 512
)

// TrustedBrowser is a browser the user chose to remember after passing an SMS
// challenge; until ExpiresAt it skips the challenge. Its device token is not
// kept, only the token's SHA-256.
type TrustedBrowser struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
	CreatedIP  netip.Addr // invalid when unknown
	UserAgent  string
}

// TrustedBrowsers stores remembered browsers by the hash of their token.
type TrustedBrowsers interface {
	CreateTrustedBrowser(ctx context.Context, tokenHash []byte, b TrustedBrowser) error
	// TrustedBrowserByHash returns the unexpired browser with this token hash,
	// or ErrNotTrusted.
	TrustedBrowserByHash(ctx context.Context, tokenHash []byte, now time.Time) (TrustedBrowser, error)
	// TouchTrustedBrowser sets the browser's last use to now.
	TouchTrustedBrowser(ctx context.Context, id string, now time.Time) error
	// ListTrustedBrowsers returns the user's unexpired browsers, newest first.
	ListTrustedBrowsers(ctx context.Context, userID string, now time.Time) ([]TrustedBrowser, error)
	// DeleteTrustedBrowser reports whether the user had a browser with this id.
	DeleteTrustedBrowser(ctx context.Context, userID, id string) (bool, error)
	// DeleteTrustedBrowsers removes all the user's browsers and counts them.
	DeleteTrustedBrowsers(ctx context.Context, userID string) (int64, error)
}

// TrustBrowser remembers a browser for the user, who has just passed a
// challenge on it, for Rules.TrustedBrowserFor (capped at TrustedBrowserMax).
// The returned token goes in the browser's cookie and is never shown again.
// With remembering turned off (TrustedBrowserFor zero) it answers
// ErrInvalidRequest.
func (s *Service) TrustBrowser(ctx context.Context, userID string, ip netip.Addr, userAgent string) (string, TrustedBrowser, error) {
	ttl := s.rulesFor(ctx).TrustedBrowserFor
	if s.rulesFor(ctx).TrustedBrowserMax > 0 {
		ttl = min(ttl, s.rulesFor(ctx).TrustedBrowserMax)
	}
	if ttl <= 0 {
		return "", TrustedBrowser{}, fmt.Errorf("%w: remembering browsers is turned off", ErrInvalidRequest)
	}
	var raw [trustTokenBytes]byte
	rand.Read(raw[:])
	hash := sha256.Sum256(raw[:])
	now := s.now()
	b := TrustedBrowser{
		ID: newID(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl), LastUsedAt: now,
		CreatedIP: ip, UserAgent: clipUTF8(userAgent, maxUserAgent),
	}
	if err := s.store.CreateTrustedBrowser(ctx, hash[:], b); err != nil {
		return "", TrustedBrowser{}, fmt.Errorf("store trusted browser: %w", err)
	}
	s.record(ctx, account.Event{Type: EventBrowserTrusted, UserID: userID, Subject: b.ID, IP: ip, UserAgent: b.UserAgent,
		Details: map[string]any{"expires_at": b.ExpiresAt}})
	return base64.RawURLEncoding.EncodeToString(raw[:]), b, nil
}

// IsTrusted reports whether token is the device token of an unexpired browser
// the user trusted. A malformed token is simply not trusted.
func (s *Service) IsTrusted(ctx context.Context, userID, token string) (bool, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != trustTokenBytes {
		return false, nil
	}
	hash := sha256.Sum256(raw)
	now := s.now()
	b, err := s.store.TrustedBrowserByHash(ctx, hash[:], now)
	if errors.Is(err, ErrNotTrusted) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load trusted browser: %w", err)
	}
	if b.UserID != userID {
		return false, nil
	}
	if now.Sub(b.LastUsedAt) >= touchEvery {
		// Last use is for the user's list of browsers; failing to note it
		// does not make the browser less trusted.
		if err := s.store.TouchTrustedBrowser(ctx, b.ID, now); err != nil {
			s.log.ErrorContext(ctx, "touch trusted browser failed", "browser", b.ID, "err", err)
		}
	}
	return true, nil
}

// TrustedBrowsers lists the user's unexpired remembered browsers, newest first.
func (s *Service) TrustedBrowsers(ctx context.Context, userID string) ([]TrustedBrowser, error) {
	bs, err := s.store.ListTrustedBrowsers(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list trusted browsers: %w", err)
	}
	return bs, nil
}

// ForgetBrowser ends the trust in one of the user's browsers; an id that is
// not one of them answers ErrNotTrusted.
func (s *Service) ForgetBrowser(ctx context.Context, userID, id string) error {
	ok, err := s.store.DeleteTrustedBrowser(ctx, userID, id)
	if err != nil {
		return fmt.Errorf("delete trusted browser: %w", err)
	}
	if !ok {
		return ErrNotTrusted
	}
	s.record(ctx, account.Event{Type: EventBrowserForgotten, UserID: userID, Subject: id})
	return nil
}

// ForgetAllBrowsers ends the trust in all the user's browsers and counts
// them. reason says why, for the audit log: "user", "phone_changed",
// "phone_removed", "admin" or "mfa_reset". Forgetting none is not audited. A
// new password forgets them in its own transaction (account's setPassword).
func (s *Service) ForgetAllBrowsers(ctx context.Context, userID, reason string) (int64, error) {
	n, err := s.store.DeleteTrustedBrowsers(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("delete trusted browsers: %w", err)
	}
	if n > 0 {
		s.record(ctx, account.Event{Type: EventBrowsersForgotten, UserID: userID,
			Details: map[string]any{"reason": reason, "count": n}})
	}
	return n, nil
}

// clipUTF8 makes s valid UTF-8 of at most n bytes, cut at a rune boundary.
func clipUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
