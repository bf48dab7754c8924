package keys

import (
	"bytes"
	"cmp"
	"context"
	"crypto/cipher"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options tune a Manager; zero values take the defaults.
type Options struct {
	// RetainFor keeps a retired key published and verifying; it must exceed
	// the longest lifetime of a token the key signed. Default 48h.
	RetainFor time.Duration
	// Refresh is how stale the cached keys may get: a rotation made elsewhere
	// is seen within it. Default 5s.
	Refresh time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Bits is the RSA modulus size of new keys; default 2048, the minimum.
	Bits int
}

// Manager signs with the current key and answers which keys are published. It
// caches the decrypted keys and reloads them from the Store at most once per
// Refresh (one load at a time, however many callers ask). It is safe for
// concurrent use.
type Manager struct {
	store   Store
	aead    cipher.AEAD
	retain  time.Duration
	refresh time.Duration
	now     func() time.Time
	bits    int

	mu           sync.RWMutex
	view         *view     // nil until the first load
	flight       *flight   // the load in progress, if any
	missReloadAt time.Time // last reload caused by an unknown kid
}

// view is one load of the keys, never modified once built.
type view struct {
	staleAt time.Time // reload from here: Refresh passed or a retired key expired
	stored  int       // rows in the store, published or not
	current *entry
	byKID   map[string]*entry // published keys
	kids    string            // published kids in JWKS order, to notice a change
	jwks    []byte
}

type entry struct {
	kid        string
	state      State
	key        *rsa.PrivateKey
	ciphertext []byte
	retiredAt  time.Time
}

type flight struct {
	done chan struct{}
	view *view
	err  error
}

// NewManager returns a Manager for the keys in st, sealed under a key derived
// from the 32-byte master key. It does not touch the store: call Init.
func NewManager(st Store, masterKey []byte, opts Options) (*Manager, error) {
	aead, err := newSealer(masterKey)
	if err != nil {
		return nil, err
	}
	if opts.Bits != 0 && opts.Bits < 2048 {
		return nil, fmt.Errorf("keys: %d-bit RSA keys are too small; use at least 2048", opts.Bits)
	}
	m := &Manager{
		store:   st,
		aead:    aead,
		retain:  cmp.Or(opts.RetainFor, 48*time.Hour),
		refresh: cmp.Or(opts.Refresh, 5*time.Second),
		now:     opts.Now,
		bits:    cmp.Or(opts.Bits, 2048),
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Init makes a current and a next key when the store has none, then loads
// the keys. Replicas starting together may all call it: one set is stored.
// It fails with ErrUndecryptable when the stored keys were sealed under
// another master key.
func (m *Manager) Init(ctx context.Context) error {
	v, err := m.reload(ctx, false)
	if err != nil {
		return err
	}
	if v.stored > 0 {
		return nil
	}
	now := m.now()
	_, current, err := generate(m.aead, m.bits)
	if err != nil {
		return err
	}
	_, next, err := generate(m.aead, m.bits)
	if err != nil {
		return err
	}
	current.State, current.CreatedAt, current.ActivatedAt = Current, now, now
	next.State, next.CreatedAt = Next, now
	if _, err := m.store.InitSigningKeys(ctx, current, next); err != nil {
		return fmt.Errorf("store signing keys: %w", err)
	}
	_, err = m.reload(ctx, false)
	return err
}

// Rotate makes the next key current, retires the current one and publishes a
// new next key. It also purges keys retired more than RetainFor ago.
func (m *Manager) Rotate(ctx context.Context) error {
	now := m.now()
	_, next, err := generate(m.aead, m.bits)
	if err != nil {
		return err
	}
	next.State, next.CreatedAt = Next, now
	if err := m.store.RotateSigningKeys(ctx, next, now); err != nil {
		return fmt.Errorf("rotate signing keys: %w", err)
	}
	if _, err := m.store.PurgeSigningKeys(ctx, now.Add(-m.retain)); err != nil {
		return fmt.Errorf("purge retired signing keys: %w", err)
	}
	_, err = m.reload(ctx, false)
	return err
}

// Signing returns the key to sign with and its kid.
func (m *Manager) Signing(ctx context.Context) (kid string, key *rsa.PrivateKey, err error) {
	v, err := m.fresh(ctx)
	if err != nil {
		return "", nil, err
	}
	if v.current == nil {
		return "", nil, ErrNoCurrentKey
	}
	return v.current.kid, v.current.key, nil
}

// PublicKey returns the published key named kid: the next, the current or a
// key retired less than RetainFor ago. A kid it does not know makes it reload
// at most once per Refresh (so junk kids cannot hammer the store), then
// ErrUnknownKey.
func (m *Manager) PublicKey(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v, err := m.fresh(ctx)
	if err != nil {
		return nil, err
	}
	if e := v.byKID[kid]; e != nil {
		return &e.key.PublicKey, nil
	}
	if !m.mayReloadForMiss() {
		return nil, ErrUnknownKey
	}
	if v, err = m.reload(ctx, true); err != nil {
		return nil, err
	}
	if e := v.byKID[kid]; e != nil {
		return &e.key.PublicKey, nil
	}
	return nil, ErrUnknownKey
}

// JWKS returns the published keys as a JSON Web Key Set: the current key,
// the next key, then retired keys newest first. The JSON is built only when
// the set changes; the slice is shared, so callers must not modify it.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	v, err := m.fresh(ctx)
	if err != nil {
		return nil, err
	}
	return v.jwks, nil
}

// fresh returns the cached view, reloading it when it is stale.
func (m *Manager) fresh(ctx context.Context) (*view, error) {
	m.mu.RLock()
	v := m.view
	m.mu.RUnlock()
	isFresh := func(v *view) bool { return m.now().Before(v.staleAt) }
	if v != nil && isFresh(v) {
		return v, nil
	}
	return m.reloadUnless(ctx, true, isFresh)
}

func (m *Manager) mayReloadForMiss() bool {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.missReloadAt.IsZero() && now.Sub(m.missReloadAt) < m.refresh {
		return false
	}
	m.missReloadAt = now
	return true
}

// reload loads the keys from the store, one load at a time. With join, a
// caller that finds a load in progress takes its result; without, it waits
// for it and loads again, so that it sees its own writes.
func (m *Manager) reload(ctx context.Context, join bool) (*view, error) {
	return m.reloadUnless(ctx, join, func(*view) bool { return false })
}

// reloadUnless is reload that, under the lock, first asks skip whether the
// current view will do: a caller that found the view stale may arrive just
// after another caller's load finished, and must not load again.
func (m *Manager) reloadUnless(ctx context.Context, join bool, skip func(*view) bool) (*view, error) {
	m.mu.Lock()
	if v := m.view; m.flight == nil && v != nil && skip(v) {
		m.mu.Unlock()
		return v, nil
	}
	for m.flight != nil {
		f := m.flight
		m.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if join {
			return f.view, f.err
		}
		m.mu.Lock()
	}
	f := &flight{done: make(chan struct{})}
	m.flight = f
	prev := m.view
	m.mu.Unlock()

	f.err = errLoadAborted // until load returns; waiters see it if load panics
	defer func() {
		m.mu.Lock()
		if f.err == nil {
			m.view = f.view
		}
		m.flight = nil
		m.mu.Unlock()
		close(f.done)
	}()
	f.view, f.err = m.load(ctx, prev)
	return f.view, f.err
}

// load reads every key, keeps the published ones and decrypts those it has
// not decrypted before.
func (m *Manager) load(ctx context.Context, prev *view) (*view, error) {
	now := m.now()
	rows, err := m.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	v := &view{staleAt: now.Add(m.refresh), stored: len(rows), byKID: make(map[string]*entry, len(rows))}
	published := make([]*entry, 0, len(rows))
	for _, r := range rows {
		switch r.State {
		case Next, Current:
		case Retired:
			until := r.RetiredAt.Add(m.retain)
			if !now.Before(until) {
				continue
			}
			if until.Before(v.staleAt) {
				v.staleAt = until
			}
		default:
			continue
		}
		e := &entry{kid: r.ID, state: r.State, ciphertext: r.Ciphertext, retiredAt: r.RetiredAt}
		if p := prev.lookup(r.ID); p != nil && bytes.Equal(p.ciphertext, r.Ciphertext) {
			e.key = p.key
		} else if e.key, err = open(m.aead, r.ID, r.Ciphertext); err != nil {
			return nil, err
		}
		if r.State == Current {
			v.current = e
		}
		v.byKID[e.kid] = e
		published = append(published, e)
	}
	slices.SortFunc(published, func(a, b *entry) int {
		if c := cmp.Compare(rank(a.state), rank(b.state)); c != 0 {
			return c
		}
		return b.retiredAt.Compare(a.retiredAt)
	})
	kids := make([]string, len(published))
	for i, e := range published {
		kids[i] = e.kid
	}
	v.kids = strings.Join(kids, " ")
	if prev != nil && prev.kids == v.kids {
		v.jwks = prev.jwks
	} else if v.jwks, err = marshalJWKS(published); err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	return v, nil
}

var errLoadAborted = errors.New("keys: loading the signing keys was aborted")

func (v *view) lookup(kid string) *entry {
	if v == nil {
		return nil
	}
	return v.byKID[kid]
}

func rank(s State) int {
	switch s {
	case Current:
		return 0
	case Next:
		return 1
	}
	return 2
}
