package store

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

// SearchUsers pages through users in order of their case-folded email,
// which the unique index on lower(email) serves: a page reads about Limit
// index entries past the cursor plus those the text filter skips. The
// cursor is the last row's email, encoded.
func (s *Store) SearchUsers(ctx context.Context, q account.UserSearch) (account.UserPage, error) {
	after := ""
	if b, err := base64.RawURLEncoding.DecodeString(q.After); err == nil {
		after = cleanText(string(b)) // a forged cursor is only text to compare
	}
	q.Text, q.Subject = cleanText(q.Text), cleanText(q.Subject)
	var lookup any
	if q.PhoneLookup != nil {
		lookup = q.PhoneLookup
	}
	rows, err := s.db(ctx).Query(ctx, `
		select `+userColumns+`
		from users
		where ($1 = '' or strpos(lower(email), $1) > 0 or subject = $5)
		  and ($2::bytea is null or id in (select user_id from mfa_factors where phone_lookup = $2))
		  and ($3 = '' or lower(email) > lower($3))
		order by lower(email)
		limit $4`, q.Text, lookup, after, q.Limit+1, q.Subject)
	if err != nil {
		return account.UserPage{}, fmt.Errorf("search users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account.User, error) { return scanUser(r) })
	if err != nil {
		return account.UserPage{}, fmt.Errorf("search users: %w", err)
	}
	page := account.UserPage{Users: users}
	if len(users) > q.Limit {
		page.Users = users[:q.Limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Users[q.Limit-1].Email))
	}
	return page, nil
}

// EndUserAccess deletes the user's sessions and OAuth grants (whose subject
// is the user id), and with browsers their remembered browsers.
func (s *Store) EndUserAccess(ctx context.Context, id string, browsers bool) (account.AccessEnded, error) {
	var ended account.AccessEnded
	if !account.IsUUID(id) {
		return ended, account.ErrNotFound
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		if ended, err = s.endAccess(ctx, id); err != nil {
			return err
		}
		if browsers {
			tag, err := s.db(ctx).Exec(ctx, `delete from mfa_trusted_browsers where user_id = $1`, id)
			if err != nil {
				return fmt.Errorf("delete trusted browsers: %w", err)
			}
			ended.Browsers = tag.RowsAffected()
		}
		return nil
	})
	return ended, err
}

func (s *Store) endAccess(ctx context.Context, id string) (account.AccessEnded, error) {
	var ended account.AccessEnded
	tag, err := s.db(ctx).Exec(ctx, `delete from sessions where user_id = $1`, id)
	if err != nil {
		return ended, fmt.Errorf("delete sessions: %w", err)
	}
	ended.Sessions = tag.RowsAffected()
	if ended.Tokens, err = s.deleteSubjectTokens(ctx, id); err != nil {
		return ended, err
	}
	return ended, nil
}

// DeleteUser deletes the user's OAuth grants and the user; the foreign keys
// take their sessions, factors, challenges, recovery codes, authenticator,
// remembered browsers and login history, and unlink their outbox rows. The
// audit log has no foreign key and keeps its entries. Deleting the last
// active admin answers account.ErrLastAdmin.
func (s *Store) DeleteUser(ctx context.Context, id string) (account.AccessEnded, error) {
	var ended account.AccessEnded
	if !account.IsUUID(id) {
		return ended, account.ErrNotFound
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.keepAnAdmin(ctx, id); err != nil {
			return err
		}
		var err error
		if ended, err = s.endAccess(ctx, id); err != nil {
			return err
		}
		tag, err := s.db(ctx).Exec(ctx, `delete from users where id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		return nil
	})
	return ended, err
}
