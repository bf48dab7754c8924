package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
)

const userColumns = `id::text, email, email_verified, name, coalesce(password_hash, ''), admin, blocked,
	created_at, updated_at, password_changed_at, last_login_at, subject, user_metadata, app_metadata,
	coalesce(language, '')`

func scanUser(row pgx.Row) (account.User, error) {
	var u account.User
	var changed, lastLogin *time.Time
	err := row.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.PasswordHash, &u.Admin, &u.Blocked,
		&u.CreatedAt, &u.UpdatedAt, &changed, &lastLogin, &u.Subject, &u.UserMetadata, &u.AppMetadata,
		&u.Language)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.User{}, account.ErrNotFound
	}
	if err != nil {
		return account.User{}, err
	}
	if changed != nil {
		u.PasswordChangedAt = *changed
	}
	if lastLogin != nil {
		u.LastLoginAt = *lastLogin
	}
	return u, nil
}

func (s *Store) CreateUser(ctx context.Context, n account.NewUser) (account.User, error) {
	var hash any
	if n.PasswordHash != "" {
		hash = n.PasswordHash
	}
	var subject any
	if n.Subject != "" {
		subject = n.Subject
	}
	row := s.db(ctx).QueryRow(ctx, `
		insert into users (email, email_verified, name, password_hash, admin, created_at, updated_at, password_changed_at,
			subject, user_metadata, app_metadata)
		values ($1, $2, $3, $4, $5, $6, $6, case when $4::text is null then null else $6::timestamptz end,
			$7, $8, $9)
		returning `+userColumns,
		n.Email, n.EmailVerified, n.Name, hash, n.Admin, n.CreatedAt, subject, metadataOrEmpty(n.UserMetadata), metadataOrEmpty(n.AppMetadata))
	u, err := scanUser(row)
	if isUniqueViolation(err) {
		// A repeated import collides on both; the email is what tells the
		// importer that this user came over already.
		if constraintOf(err) == "users_subject_key" {
			if _, err := s.UserByEmail(ctx, n.Email); err != nil {
				return account.User{}, account.ErrSubjectTaken
			}
		}
		return account.User{}, account.ErrEmailTaken
	}
	if err != nil {
		return account.User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

func (s *Store) UserByEmail(ctx context.Context, email string) (account.User, error) {
	u, err := scanUser(s.db(ctx).QueryRow(ctx, `select `+userColumns+` from users where lower(email) = lower($1)`, email))
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return u, fmt.Errorf("user by email: %w", err)
	}
	return u, err
}

func (s *Store) UserByID(ctx context.Context, id string) (account.User, error) {
	if !account.IsUUID(id) {
		return account.User{}, account.ErrNotFound
	}
	u, err := scanUser(s.db(ctx).QueryRow(ctx, `select `+userColumns+` from users where id = $1`, id))
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return u, fmt.Errorf("user by id: %w", err)
	}
	return u, err
}

// UserBySubject finds the user whose tokens carry subject as sub.
func (s *Store) UserBySubject(ctx context.Context, subject string) (account.User, error) {
	if account.CheckSubject(subject) != nil {
		return account.User{}, account.ErrNotFound // a NUL or invalid UTF-8 would be a database error
	}
	u, err := scanUser(s.db(ctx).QueryRow(ctx, `select `+userColumns+` from users where subject = $1`, subject))
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return u, fmt.Errorf("user by subject: %w", err)
	}
	return u, err
}

// UpdateMetadata changes a user's metadata under a lock of their row, so
// that two changes made at once both apply.
func (s *Store) UpdateMetadata(ctx context.Context, id string, change func(user, app json.RawMessage) (json.RawMessage, json.RawMessage, error)) (account.User, error) {
	if !account.IsUUID(id) {
		return account.User{}, account.ErrNotFound
	}
	var u account.User
	err := s.InTx(ctx, func(ctx context.Context) error {
		var user, app json.RawMessage
		err := s.db(ctx).QueryRow(ctx, `select user_metadata, app_metadata from users where id = $1 for update`, id).Scan(&user, &app)
		if errors.Is(err, pgx.ErrNoRows) {
			return account.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		newUser, newApp, err := change(user, app)
		if err != nil {
			return err
		}
		u, err = scanUser(s.db(ctx).QueryRow(ctx, `
			update users set user_metadata = $2, app_metadata = $3, updated_at = now() where id = $1
			returning `+userColumns, id, metadataOrEmpty(newUser), metadataOrEmpty(newApp)))
		return err
	})
	return u, err
}

func metadataOrEmpty(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return account.EmptyMetadata
	}
	return m
}

func (s *Store) SetPasswordHash(ctx context.Context, id, hash string, changedAt time.Time) error {
	if !account.IsUUID(id) {
		return account.ErrNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `
		update users set password_hash = $2, updated_at = now(),
			password_changed_at = coalesce($3, password_changed_at)
		where id = $1`, id, hash, nullTime(changedAt))
	if err != nil {
		return fmt.Errorf("set password hash: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

func (s *Store) RecordLogin(ctx context.Context, id string, at time.Time) error {
	const sql = `update users set last_login_at = $2 where id = $1`
	if deferWrite(ctx, sql, id, at) {
		return nil
	}
	if _, err := s.db(ctx).Exec(ctx, sql, id, at); err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// SetBlocked blocks or unblocks a user; blocking the last active admin
// answers account.ErrLastAdmin.
func (s *Store) SetBlocked(ctx context.Context, id string, blocked bool) error {
	return s.changeUser(ctx, id, blocked, `update users set blocked = $2, updated_at = now() where id = $1`, blocked)
}

// SetAdmin gives or takes the admin role; demoting the last active admin
// answers account.ErrLastAdmin.
func (s *Store) SetAdmin(ctx context.Context, id string, admin bool) error {
	return s.changeUser(ctx, id, !admin, `update users set admin = $2, updated_at = now() where id = $1`, admin)
}

// changeUser runs one update of the user id, first checking, when the
// change takes an admin away, that another active admin remains.
func (s *Store) changeUser(ctx context.Context, id string, removing bool, sql string, args ...any) error {
	if !account.IsUUID(id) {
		return account.ErrNotFound
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if removing {
			if err := s.keepAnAdmin(ctx, id); err != nil {
				return err
			}
		}
		tag, err := s.db(ctx).Exec(ctx, sql, append([]any{id}, args...)...)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		return nil
	})
}

// keepAnAdmin answers account.ErrLastAdmin when id is the only active
// admin. It locks the admins' rows until the transaction ends, so two
// admins demoting each other at once cannot both succeed.
func (s *Store) keepAnAdmin(ctx context.Context, id string) error {
	rows, err := s.db(ctx).Query(ctx, `select id::text from users where admin and not blocked order by id for update`)
	if err != nil {
		return fmt.Errorf("lock admins: %w", err)
	}
	admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("lock admins: %w", err)
	}
	if len(admins) == 1 && strings.EqualFold(admins[0], id) {
		return account.ErrLastAdmin
	}
	return nil
}
