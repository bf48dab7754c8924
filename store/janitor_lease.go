package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"
)

// DefaultJanitorLease is how long a cleanup pass's lease holds unless
// renewed. A pass renews it before every batch, each a short statement, so
// only a replica that died or lost the database lets it run out; the next
// replica then takes over within this long.
const DefaultJanitorLease = 2 * time.Minute

// janitorLeaseName names the cleanup pass's row in janitor_lease.
const janitorLeaseName = "cleanup"

// ErrJanitorLeaseLost ends a pass whose lease ran out and was taken by
// another replica, so that two passes do not go on side by side.
var ErrJanitorLeaseLost = errors.New("janitor lease taken over by another replica")

// janitorLease is a pass's claim to be the only cleanup running. Every
// statement on it stands alone, outside any transaction of the caller, and
// depends on no session state: that is what lets it work through a
// transaction-pooling connection pooler, where a session advisory lock would
// stay on a server connection handed to other clients and never be released.
type janitorLease struct {
	s      *Store
	holder string
	ttl    time.Duration
}

// takeJanitorLease claims the lease for ttl (0: DefaultJanitorLease) when no
// one holds it or its holder let it run out. ok is false when another pass
// holds it. Expiry is judged by the database's clock, the one clock all
// replicas share.
func (s *Store) takeJanitorLease(ctx context.Context, ttl time.Duration) (l *janitorLease, ok bool, err error) {
	if ttl <= 0 {
		ttl = DefaultJanitorLease
	}
	l = &janitorLease{s: s, holder: leaseHolder(), ttl: ttl}
	tag, err := s.pool.Exec(ctx, `
		insert into janitor_lease (name, holder, expires_at)
		values ($1, $2, now() + make_interval(secs => $3::float8))
		on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
		where janitor_lease.expires_at <= now()`,
		janitorLeaseName, l.holder, ttl.Seconds())
	if err != nil {
		return nil, false, fmt.Errorf("take the janitor lease: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, false, nil
	}
	return l, true, nil
}

// renew extends the lease by its ttl from now. It fails with
// ErrJanitorLeaseLost when the lease is no longer this pass's.
func (l *janitorLease) renew(ctx context.Context) error {
	tag, err := l.s.pool.Exec(ctx, `
		update janitor_lease set expires_at = now() + make_interval(secs => $3::float8)
		where name = $1 and holder = $2`,
		janitorLeaseName, l.holder, l.ttl.Seconds())
	if err != nil {
		return fmt.Errorf("renew the janitor lease: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrJanitorLeaseLost
	}
	return nil
}

// release gives the lease back at the end of a pass, so the next pass on any
// replica need not wait for it to run out. It runs even when ctx has ended
// (a replica shutting down mid-pass); if it fails, the lease runs out.
func (l *janitorLease) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = l.s.pool.Exec(ctx, `delete from janitor_lease where name = $1 and holder = $2`, janitorLeaseName, l.holder)
}

// leaseHolder names one pass: the host and process, for an operator reading
// the table, and a random part, so that two passes never share a name.
func leaseHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:10])
}
