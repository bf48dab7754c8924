// Package settings is the tenant's run-time configuration: what an admin
// changes in the console, the admin API or `gatehouse settings set`, and what
// every replica then acts on within a second. Each setting is a named string
// with a parser that refuses bad values in words an admin understands; secrets
// (provider credentials) are sealed with the master key before they reach the
// database and are never read back out through any interface.
//
// The environment (GATEHOUSE_SMS_PROVIDER, PLIVO_*, …) gives the defaults an
// operator deploys with; a value set here overrides it.
package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/cache"
	"github.com/gatehouse-id/gatehouse/mfa"
)

// Store keeps settings; package store implements it against Postgres.
type Store interface {
	// AllSettings returns every stored setting by key.
	AllSettings(ctx context.Context) (map[string]string, error)
	// SetSettings writes set and removes unset in one transaction, keeping
	// each change in the settings history with who made it.
	SetSettings(ctx context.Context, set map[string]string, unset []string, changedBy string) error
}

// Audit records security events; package store implements it.
type Audit interface {
	Record(ctx context.Context, e account.Event) error
}

// EventChanged is the audit event of a settings change. Its details name the
// keys; secret values are never written into the log.
const EventChanged = "settings.changed"

// CacheTTL bounds how long a replica acts on old settings after a change.
const CacheTTL = time.Second

// FieldErrors maps a setting key to what is wrong with the value given for it.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// Service reads and changes settings, caching what it read for CacheTTL.
type Service struct {
	store Store
	audit Audit
	seal  *sealer
	now   func() time.Time
	cache *cache.Cache[Snapshot]
	log   *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithLog logs the settings reads that fail, and what is done instead, to l;
// without it they are not logged.
func WithLog(l *slog.Logger) Option {
	return func(s *Service) {
		if l != nil {
			s.log = l
		}
	}
}

// NewService builds a Service; masterKey (32 bytes) seals secret values. With
// a nil masterKey (a command line without GATEHOUSE_SECRET_KEY) secrets can be
// neither read nor set.
func NewService(st Store, audit Audit, masterKey []byte, now func() time.Time, opts ...Option) (*Service, error) {
	var s *sealer
	if masterKey != nil {
		var err error
		if s, err = newSealer(masterKey); err != nil {
			return nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	svc := &Service{store: st, audit: audit, seal: s, now: now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(svc)
	}
	svc.cache = cache.New(CacheTTL, now, svc.read)
	return svc, nil
}

// Current returns the settings as of at most CacheTTL ago, or, while another
// request of this replica reads them afresh, the last that were read: a slow
// database delays one request, not every one. When reading them fails, the
// last that were read serve for up to cache.MaxStale; after that (or with
// none read yet) the error is returned.
func (s *Service) Current(ctx context.Context) (Snapshot, error) {
	return s.cache.Get(ctx)
}

// read reads every setting from the store, opening the sealed ones.
func (s *Service) read(ctx context.Context) (Snapshot, error) {
	stored, err := s.store.AllSettings(ctx)
	if err != nil {
		return Snapshot{}, fmt.Errorf("read settings: %w", err)
	}
	snap := Snapshot{values: make(map[string]string, len(stored))}
	for k, v := range stored {
		spec, ok := specByKey[k]
		if !ok {
			continue
		}
		if spec.Secret {
			if s.seal == nil {
				continue
			}
			plain, err := s.seal.open(k, v)
			if err != nil {
				// A secret sealed under another master key reads as unset,
				// so the environment's value applies and an admin can set it again.
				continue
			}
			v = plain
		}
		snap.values[k] = v
	}
	return snap, nil
}

// Set validates and stores changes (key → value as typed), all or nothing. An
// empty value for a secret keeps the stored one, as a write-only form field
// left blank does; Unset removes a value instead. Invalid values come back as
// FieldErrors, naming each key.
func (s *Service) Set(ctx context.Context, changes map[string]string, by string, m account.Meta) error {
	if len(changes) == 0 {
		return nil
	}
	current, err := s.Current(ctx)
	if err != nil {
		return err
	}
	next := current.clone()
	canonical := map[string]string{}
	problems := FieldErrors{}
	for k, v := range changes {
		spec, ok := specByKey[k]
		if !ok {
			problems[k] = "is not a setting"
			continue
		}
		if spec.Secret && v == "" {
			continue
		}
		if spec.Secret && s.seal == nil {
			problems[k] = "can only be set with the master key (GATEHOUSE_SECRET_KEY)"
			continue
		}
		if v == Unset {
			canonical[k] = Unset
			delete(next.values, k)
			continue
		}
		c, err := spec.Parse(strings.TrimSpace(v))
		if err != nil {
			problems[k] = err.Error()
			continue
		}
		canonical[k] = c
		next.values[k] = c
	}
	for k, msg := range next.check(canonical) {
		problems[k] = msg
	}
	if len(problems) > 0 {
		return problems
	}
	if len(canonical) == 0 {
		return nil
	}
	stored := make(map[string]string, len(canonical))
	var unset []string
	details := map[string]any{"by": by}
	for k, v := range canonical {
		switch {
		case v == Unset:
			unset = append(unset, k)
			details[k] = "(default)"
		case specByKey[k].Secret:
			if stored[k], err = s.seal.seal(k, v); err != nil {
				return err
			}
			details[k] = "(secret changed)"
		default:
			stored[k] = v
			details[k] = v
		}
	}
	if err := s.store.SetSettings(ctx, stored, unset, by); err != nil {
		return fmt.Errorf("change settings: %w", err)
	}
	s.cache.Invalidate()
	if err := s.audit.Record(context.WithoutCancel(ctx), account.Event{At: s.now(), Type: EventChanged,
		IP: m.IP, UserAgent: m.UserAgent, RequestID: m.RequestID, Details: details}); err != nil {
		return fmt.Errorf("audit settings change: %w", err)
	}
	return nil
}

// Unset, given as a value to Set, returns the setting to its default.
const Unset = "\x00unset"

// ErrUnknown means a key names no setting.
var ErrUnknown = errors.New("no such setting")

// Describe returns the spec of one setting.
func Describe(key string) (Spec, error) {
	spec, ok := specByKey[key]
	if !ok {
		return Spec{}, fmt.Errorf("%w: %q", ErrUnknown, key)
	}
	return spec, nil
}

// All lists every setting's spec in display order.
func All() []Spec { return append([]Spec(nil), specs...) }

// Tune lays the current settings over base; it is an mfa.RuleSource. When
// the settings cannot be read (and no recent read stands in), the admin's
// rules are unknown and may be stricter than base: no text message is sent
// until they can be read again.
func (s *Service) Tune(ctx context.Context, base mfa.Rules) mfa.Rules {
	snap, err := s.Current(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "settings unreadable: no text message is sent", "err", err)
		r := base
		r.PhoneOff = true
		return r
	}
	return snap.Rules(base)
}

// TuneSignups lays the current settings over base; it is an
// account.SignupRuleSource. When the settings cannot be read (and no recent
// read stands in), the admin's limits are unknown and may be stricter than
// base: signups are refused until they can be read again.
func (s *Service) TuneSignups(ctx context.Context, base account.SignupRules) account.SignupRules {
	snap, err := s.Current(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "settings unreadable: signups are refused", "err", err)
		r := base
		r.Closed = true
		return r
	}
	return snap.SignupRules(base)
}

// BlockedNetworks is the admin's list of untrusted networks now, for the
// adaptive policy.
func (s *Service) BlockedNetworks(ctx context.Context) ([]netip.Prefix, error) {
	snap, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	return snap.BlockedNetworks(), nil
}

// SubjectStyle is how new users' subjects are made now; it is an
// account.SubjectStyleSource. Unreadable settings are an error: a subject is
// forever, so none is made in a style that may not be the admin's.
func (s *Service) SubjectStyle(ctx context.Context) (account.SubjectStyle, error) {
	snap, err := s.Current(ctx)
	if err != nil {
		return "", err
	}
	return snap.SubjectStyle(), nil
}

// ChallengeMedium reports whether the adaptive policy challenges medium
// confidence now, def when the admin has not said. When the settings cannot
// be read (and no recent read stands in) it challenges: the admin may have
// asked to.
func (s *Service) ChallengeMedium(ctx context.Context, def bool) bool {
	snap, err := s.Current(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "settings unreadable: medium confidence is challenged", "err", err)
		return true
	}
	return snap.ChallengeMedium(def)
}
