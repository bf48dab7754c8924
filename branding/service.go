package branding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// EventUpdated is the audit event of a change to an application's brand;
// details carry by, client_id and changed (the fields, "logo" for an
// upload or its removal).
const EventUpdated = "admin.client_branding_updated"

// Store keeps brands; package store implements it against Postgres.
type Store interface {
	// Branding returns an application's brand without its logo's bytes, or
	// ErrNotFound.
	Branding(ctx context.Context, clientID string) (Brand, error)
	// SaveBranding writes b's name, logo URL and colours; a logo URL
	// replaces an uploaded logo, no URL keeps it.
	SaveBranding(ctx context.Context, b Brand) error
	// SetLogo stores an uploaded logo and clears the logo URL.
	SetLogo(ctx context.Context, clientID string, img Image, sum string, at time.Time) error
	// DeleteLogo removes an uploaded logo; ErrNotFound when there was none.
	DeleteLogo(ctx context.Context, clientID string, at time.Time) error
	// Logo returns an uploaded logo with its bytes, or ErrNotFound.
	Logo(ctx context.Context, clientID string) (Image, string, error)
}

// Apps finds applications; the clients package's store does.
type Apps interface {
	ClientByID(ctx context.Context, id string) (clients.Client, error)
}

// AuditLog stores the Service's events.
type AuditLog interface {
	Record(ctx context.Context, e account.Event) error
}

// ErrNoApp refuses a brand for an application that does not exist.
var ErrNoApp = errors.New("no such application")

// ErrBuiltIn refuses a brand for an application Gatehouse manages itself.
var ErrBuiltIn = errors.New("Gatehouse manages this application itself")

// Service changes brands for the console, the admin API and the command
// line, with one set of rules and one audit trail.
type Service struct {
	store Store
	apps  Apps
	audit AuditLog
	now   func() time.Time
	log   *slog.Logger
}

// NewService builds a Service; now defaults to time.Now and log to one that
// discards.
func NewService(st Store, apps Apps, audit AuditLog, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, apps: apps, audit: audit, now: now, log: log}
}

// Get returns an application's brand; an application without one gets a
// zero Brand with its ClientID.
func (s *Service) Get(ctx context.Context, clientID string) (Brand, error) {
	if err := s.changeable(ctx, clientID, false); err != nil {
		return Brand{}, err
	}
	b, err := s.store.Branding(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return Brand{ClientID: clientID}, nil
	}
	if err != nil {
		return Brand{}, fmt.Errorf("read brand of %s: %w", clientID, err)
	}
	return b, nil
}

// Check lays ch over the stored brand without saving it: the console's
// preview. The error is a *ValidationError for a refused field.
func (s *Service) Check(ctx context.Context, clientID string, ch Change) (Brand, error) {
	b, err := s.Get(ctx, clientID)
	if err != nil {
		return Brand{}, err
	}
	if _, err := ch.apply(&b); err != nil {
		return b, err
	}
	return b, nil
}

// Update saves ch. A logo URL replaces an uploaded logo. The error is a
// *ValidationError, ErrNoApp, ErrBuiltIn or a storage error; nothing is
// saved unless every field passes.
func (s *Service) Update(ctx context.Context, clientID string, ch Change, by account.Actor, m account.Meta) (Brand, error) {
	if err := s.changeable(ctx, clientID, true); err != nil {
		return Brand{}, err
	}
	b, err := s.Get(ctx, clientID)
	if err != nil {
		return Brand{}, err
	}
	changed, err := ch.apply(&b)
	if err != nil {
		return Brand{}, err
	}
	if len(changed) == 0 {
		return b, nil
	}
	b.UpdatedAt = s.now()
	if err := s.store.SaveBranding(ctx, b); err != nil {
		return Brand{}, fmt.Errorf("save brand of %s: %w", clientID, err)
	}
	s.record(ctx, clientID, changed, by, m)
	return s.Get(ctx, clientID)
}

// SetLogo checks and stores an uploaded logo, which replaces a logo URL.
// declared is the type the uploader named ("" when none).
func (s *Service) SetLogo(ctx context.Context, clientID string, data []byte, declared string, by account.Actor, m account.Meta) (Brand, error) {
	if err := s.changeable(ctx, clientID, true); err != nil {
		return Brand{}, err
	}
	img, err := CheckImage(data, declared)
	if err != nil {
		return Brand{}, err
	}
	sum := sha256.Sum256(img.Data)
	if err := s.store.SetLogo(ctx, clientID, img, hex.EncodeToString(sum[:8]), s.now()); err != nil {
		return Brand{}, fmt.Errorf("store the logo of %s: %w", clientID, err)
	}
	s.record(ctx, clientID, []string{"logo"}, by, m)
	return s.Get(ctx, clientID)
}

// RemoveLogo deletes an uploaded logo; removing none is no change.
func (s *Service) RemoveLogo(ctx context.Context, clientID string, by account.Actor, m account.Meta) (Brand, error) {
	if err := s.changeable(ctx, clientID, true); err != nil {
		return Brand{}, err
	}
	err := s.store.DeleteLogo(ctx, clientID, s.now())
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Brand{}, fmt.Errorf("remove the logo of %s: %w", clientID, err)
	}
	if err == nil {
		s.record(ctx, clientID, []string{"logo"}, by, m)
	}
	return s.Get(ctx, clientID)
}

func (s *Service) changeable(ctx context.Context, clientID string, change bool) error {
	c, err := s.apps.ClientByID(ctx, clientID)
	if errors.Is(err, clients.ErrNotFound) {
		return ErrNoApp
	}
	if err != nil {
		return fmt.Errorf("read application %s: %w", clientID, err)
	}
	if change && c.BuiltIn() {
		return ErrBuiltIn
	}
	return nil
}

func (s *Service) record(ctx context.Context, clientID string, changed []string, by account.Actor, m account.Meta) {
	e := account.Event{At: s.now(), Type: EventUpdated, Subject: clientID, IP: m.IP, UserAgent: m.UserAgent,
		RequestID: m.RequestID, Details: map[string]any{"by": by.Name, "client_id": clientID, "changed": changed}}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "event", e.Type, "err", err)
	}
}
