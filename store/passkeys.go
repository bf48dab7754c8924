package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/passkey"
)

// passkeyColumns are read by scanPasskey in this order.
const passkeyColumns = `id, user_id::text, name, public_key, sign_count, aaguid, transports, attachment,
	backup_eligible, backup_state, user_verified, attestation_format, clone_warning, created_at, last_used_at`

func scanPasskey(row pgx.Row) (passkey.Credential, error) {
	var c passkey.Credential
	var count int64
	var lastUsed *time.Time
	err := row.Scan(&c.ID, &c.UserID, &c.Name, &c.PublicKey, &count, &c.AAGUID, &c.Transports, &c.Attachment,
		&c.BackupEligible, &c.BackupState, &c.UserVerified, &c.AttestationFormat, &c.CloneWarning, &c.CreatedAt, &lastUsed)
	if err != nil {
		return c, err
	}
	c.SignCount = uint32(count)
	if lastUsed != nil {
		c.LastUsedAt = *lastUsed
	}
	c.Authenticator = passkey.AuthenticatorName(c.AAGUID, c.Attachment, c.BackupEligible)
	return c, nil
}

func (s *Store) PutCeremony(ctx context.Context, c passkey.Ceremony) error {
	var userID any
	if c.UserID != "" {
		if !account.IsUUID(c.UserID) {
			return fmt.Errorf("store passkey ceremony: user id %q is not a UUID", c.UserID)
		}
		userID = c.UserID
	}
	_, err := s.db(ctx).Exec(ctx, `
		insert into webauthn_ceremonies (id, binding, kind, user_id, session_data, expires_at)
		values ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.Binding, c.Kind, userID, json.RawMessage(c.SessionData), c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store passkey ceremony: %w", err)
	}
	return nil
}

// TakeCeremony deletes the ceremony as it reads it, so of two requests
// finishing one ceremony at most one gets it. A request under another
// binding neither gets it nor uses it up.
func (s *Store) TakeCeremony(ctx context.Context, id, binding string) (passkey.Ceremony, error) {
	c := passkey.Ceremony{ID: id, Binding: binding}
	var userID *string
	err := s.db(ctx).QueryRow(ctx, `
		delete from webauthn_ceremonies where id = $1 and binding = $2
		returning kind, user_id::text, session_data, expires_at`, id, binding).
		Scan(&c.Kind, &userID, &c.SessionData, &c.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, passkey.ErrCeremonyNotFound
	}
	if err != nil {
		return c, fmt.Errorf("take passkey ceremony: %w", err)
	}
	if userID != nil {
		c.UserID = *userID
	}
	return c, nil
}

// AddPasskey counts and inserts under a lock on the user's passkeys, so
// concurrent registrations cannot pass the cap together.
func (s *Store) AddPasskey(ctx context.Context, c passkey.Credential, max int) error {
	if !account.IsUUID(c.UserID) {
		return fmt.Errorf("add passkey: user id %q is not a UUID", c.UserID)
	}
	transports := c.Transports
	if transports == nil {
		transports = []string{}
	}
	aaguid := c.AAGUID
	if len(aaguid) == 0 {
		aaguid = make([]byte, 16)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db(ctx).Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('passkeys:' || $1, 0))`, c.UserID); err != nil {
			return fmt.Errorf("lock user's passkeys: %w", err)
		}
		var n int
		if err := s.db(ctx).QueryRow(ctx, `select count(*) from webauthn_credentials where user_id = $1`, c.UserID).Scan(&n); err != nil {
			return fmt.Errorf("count passkeys: %w", err)
		}
		if n >= max {
			return passkey.ErrTooMany
		}
		tag, err := s.db(ctx).Exec(ctx, `
			insert into webauthn_credentials (id, user_id, name, public_key, sign_count, aaguid, transports, attachment,
				backup_eligible, backup_state, user_verified, attestation_format, created_at)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			on conflict (id) do nothing`,
			c.ID, c.UserID, c.Name, c.PublicKey, int64(c.SignCount), aaguid, transports, c.Attachment,
			c.BackupEligible, c.BackupState, c.UserVerified, c.AttestationFormat, c.CreatedAt)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("add passkey: no user %s", c.UserID)
		}
		if err != nil {
			return fmt.Errorf("add passkey: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return passkey.ErrAlreadyRegistered
		}
		return nil
	})
}

func (s *Store) Passkeys(ctx context.Context, userID string) ([]passkey.Credential, error) {
	if !account.IsUUID(userID) {
		return nil, nil
	}
	rows, err := s.db(ctx).Query(ctx, `select `+passkeyColumns+` from webauthn_credentials
		where user_id = $1 order by created_at desc, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	defer rows.Close()
	var out []passkey.Credential
	for rows.Next() {
		c, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("read passkey: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return out, nil
}

func (s *Store) PasskeyByID(ctx context.Context, id []byte) (passkey.Credential, error) {
	c, err := scanPasskey(s.db(ctx).QueryRow(ctx, `select `+passkeyColumns+` from webauthn_credentials where id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, passkey.ErrUnknownCredential
	}
	if err != nil {
		return c, fmt.Errorf("load passkey: %w", err)
	}
	return c, nil
}

// HasPasskey leaves out credentials refused as cloned: they can no longer
// sign in, so they are no factor.
func (s *Store) HasPasskey(ctx context.Context, userID string) (bool, error) {
	if !account.IsUUID(userID) {
		return false, nil
	}
	var ok bool
	err := s.db(ctx).QueryRow(ctx, `
		select exists (select 1 from webauthn_credentials where user_id = $1 and not clone_warning)`, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check passkeys: %w", err)
	}
	return ok, nil
}

// UsePasskey checks the counter against the stored one and updates the row
// in one statement; concurrent uses of one credential serialize on its row,
// and each sees the counter the other stored. A counter of zero on either
// side is not compared: authenticators that sync keys report zero always.
func (s *Store) UsePasskey(ctx context.Context, userID string, id []byte, u passkey.Use) (passkey.Credential, error) {
	if !account.IsUUID(userID) {
		return passkey.Credential{}, passkey.ErrUnknownCredential
	}
	// SET expressions read the row as it was before this update.
	const refused = `(clone_warning or ($3::bigint <> 0 and sign_count <> 0 and $3::bigint <= sign_count))`
	c, err := scanPasskey(s.db(ctx).QueryRow(ctx, `
		update webauthn_credentials set
			clone_warning = `+refused+`,
			sign_count = case when `+refused+` then sign_count else greatest(sign_count, $3::bigint) end,
			backup_state = case when `+refused+` then backup_state else $4 end,
			last_used_at = case when `+refused+` then last_used_at else $5 end
		where id = $1 and user_id = $2
		returning `+passkeyColumns, id, userID, int64(u.SignCount), u.BackupState, u.At))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, passkey.ErrUnknownCredential
	}
	if err != nil {
		return c, fmt.Errorf("record passkey use: %w", err)
	}
	if c.CloneWarning {
		return c, passkey.ErrCloned
	}
	return c, nil
}

func (s *Store) RenamePasskey(ctx context.Context, userID string, id []byte, name string) error {
	if !account.IsUUID(userID) {
		return passkey.ErrUnknownCredential
	}
	tag, err := s.db(ctx).Exec(ctx, `update webauthn_credentials set name = $3 where id = $1 and user_id = $2`, id, userID, name)
	if err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrUnknownCredential
	}
	return nil
}

func (s *Store) RemovePasskey(ctx context.Context, userID string, id []byte) (passkey.Credential, error) {
	if !account.IsUUID(userID) {
		return passkey.Credential{}, passkey.ErrUnknownCredential
	}
	c, err := scanPasskey(s.db(ctx).QueryRow(ctx, `
		delete from webauthn_credentials where id = $1 and user_id = $2 returning `+passkeyColumns, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, passkey.ErrUnknownCredential
	}
	if err != nil {
		return c, fmt.Errorf("remove passkey: %w", err)
	}
	return c, nil
}

func (s *Store) RemovePasskeys(ctx context.Context, userID string) (int, error) {
	if !account.IsUUID(userID) {
		return 0, nil
	}
	tag, err := s.db(ctx).Exec(ctx, `delete from webauthn_credentials where user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("remove passkeys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
