package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/mfa/risk"
)

// AddLogin adds a successful login to the user's history.
func (s *Store) AddLogin(ctx context.Context, l risk.Login) error {
	var hash any
	if l.DeviceHash != nil {
		hash = l.DeviceHash
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into login_history (user_id, at, ip, country, device_hash)
		values ($1, $2, $3, $4, $5)`, l.UserID, l.At, inet(l.IP), l.Country, hash)
	if err != nil {
		return fmt.Errorf("add login to history: %w", err)
	}
	return nil
}

func (s *Store) LastLogin(ctx context.Context, userID string) (risk.Login, bool, error) {
	if !account.IsUUID(userID) {
		return risk.Login{}, false, nil
	}
	l := risk.Login{UserID: userID}
	var ip *netip.Addr
	err := s.db(ctx).QueryRow(ctx, `
		select at, ip, country, device_hash from login_history
		where user_id = $1 order by at desc, id desc limit 1`, userID).
		Scan(&l.At, &ip, &l.Country, &l.DeviceHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return risk.Login{}, false, nil
	}
	if err != nil {
		return risk.Login{}, false, fmt.Errorf("last login: %w", err)
	}
	if ip != nil {
		l.IP = *ip
	}
	return l, true, nil
}

func (s *Store) SeenDevice(ctx context.Context, userID string, hash []byte) (bool, error) {
	if !account.IsUUID(userID) || len(hash) == 0 {
		return false, nil
	}
	var seen bool
	err := s.db(ctx).QueryRow(ctx, `
		select exists (select 1 from login_history where user_id = $1 and device_hash = $2)`, userID, hash).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("seen device: %w", err)
	}
	return seen, nil
}

func (s *Store) SeenCountry(ctx context.Context, userID, country string) (bool, error) {
	if !account.IsUUID(userID) || country == "" {
		return false, nil
	}
	var seen bool
	err := s.db(ctx).QueryRow(ctx, `
		select exists (select 1 from login_history where user_id = $1 and country = $2)`, userID, country).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("seen country: %w", err)
	}
	return seen, nil
}

// IPFailures counts failed logins from the address, across accounts, in the
// hourly buckets after since.
func (s *Store) IPFailures(ctx context.Context, ip netip.Addr, since time.Time) (int, error) {
	if !ip.IsValid() {
		return 0, nil
	}
	var n int
	err := s.db(ctx).QueryRow(ctx, `
		select coalesce(sum(failures), 0)::int from ip_login_failures
		where ip = $1 and hour > $2`, ip, since.Truncate(time.Hour)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("address login failures: %w", err)
	}
	return n, nil
}

// DeleteOldLoginHistory forgets logins from before the retention cut-off.
func (s *Store) DeleteOldLoginHistory(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeAll(ctx, []purgeStep{loginHistoryStep(before)})
}

func loginHistoryStep(before time.Time) purgeStep {
	return purgeStep{what: "login_history", table: "login_history", where: `at < $1`, arg: before}
}

var (
	_ risk.History        = (*Store)(nil)
	_ risk.FailureCounter = (*Store)(nil)
)
