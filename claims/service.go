package claims

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
)

// EventClaimsUpdated is the audit event of a change to an application's
// custom claims: Subject is the client id, details carry by, client_id and
// the mappings as "claim <- source (target)".
const EventClaimsUpdated = "admin.client_claims_updated"

// AuditLog stores the Service's events.
type AuditLog interface {
	Record(ctx context.Context, e account.Event) error
}

// Service changes applications' custom claims for the console, the admin
// API and the command line alike.
type Service struct {
	store Store
	audit AuditLog
	now   func() time.Time
	log   *slog.Logger
}

func NewService(st Store, audit AuditLog, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, audit: audit, now: now, log: log}
}

// Of lists an application's mappings.
func (s *Service) Of(ctx context.Context, clientID string) ([]Mapping, error) {
	return s.store.ClientClaims(ctx, clientID)
}

// Set replaces an application's mappings after Validate; ErrNotFound for
// an unknown application.
func (s *Service) Set(ctx context.Context, clientID string, ms []Mapping, by account.Actor, m account.Meta) error {
	if err := Validate(ms); err != nil {
		return err
	}
	if err := s.store.SetClientClaims(ctx, clientID, ms); err != nil {
		return fmt.Errorf("set claims of %s: %w", clientID, err)
	}
	described := make([]string, len(ms))
	for i, x := range ms {
		described[i] = fmt.Sprintf("%s <- %s (%s)", x.Claim, x.Source, x.Target)
	}
	e := account.Event{Type: EventClaimsUpdated, Subject: clientID, At: s.now(), IP: m.IP, UserAgent: m.UserAgent, RequestID: m.RequestID,
		Details: map[string]any{"by": by.Name, "client_id": clientID, "claims": described}}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
	return nil
}
