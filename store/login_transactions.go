package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrTransactionNotFound means the login transaction is unknown, expired or
// already completed.
var ErrTransactionNotFound = errors.New("login transaction not found")

// LoginTransaction is one authorization request waiting for the browser to
// finish the steps it needs.
type LoginTransaction struct {
	ClientID    string
	RequestForm string // url-encoded authorization request parameters
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func transactionHash(id string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 32 {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// CreateLoginTransaction stores tx and returns the id the browser carries.
func (s *Store) CreateLoginTransaction(ctx context.Context, tx LoginTransaction) (string, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	sum := sha256.Sum256(raw)
	_, err := s.db(ctx).Exec(ctx, `
		insert into login_transactions (id_hash, client_id, request_form, created_at, expires_at)
		values ($1, $2, $3, $4, $5)`, sum[:], tx.ClientID, tx.RequestForm, tx.CreatedAt, tx.ExpiresAt)
	if err != nil {
		return "", fmt.Errorf("create login transaction: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// LoginTransaction returns the open transaction with this id at now.
func (s *Store) LoginTransaction(ctx context.Context, id string, now time.Time) (LoginTransaction, error) {
	h, ok := transactionHash(id)
	if !ok {
		return LoginTransaction{}, ErrTransactionNotFound
	}
	var tx LoginTransaction
	err := s.db(ctx).QueryRow(ctx, `
		select client_id, request_form, created_at, expires_at from login_transactions
		where id_hash = $1 and completed_at is null and expires_at > $2`, h, now).
		Scan(&tx.ClientID, &tx.RequestForm, &tx.CreatedAt, &tx.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return LoginTransaction{}, ErrTransactionNotFound
	}
	if err != nil {
		return LoginTransaction{}, fmt.Errorf("load login transaction: %w", err)
	}
	return tx, nil
}

// CompleteLoginTransaction closes the transaction; of two concurrent calls
// exactly one succeeds, so one request yields at most one code.
func (s *Store) CompleteLoginTransaction(ctx context.Context, id string, now time.Time) error {
	h, ok := transactionHash(id)
	if !ok {
		return ErrTransactionNotFound
	}
	tag, err := s.db(ctx).Exec(ctx, `
		update login_transactions set completed_at = $2
		where id_hash = $1 and completed_at is null and expires_at > $2`, h, now)
	if err != nil {
		return fmt.Errorf("complete login transaction: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTransactionNotFound
	}
	return nil
}

// SetTransactionAssessment keeps the adaptive policy's assessment (any JSON
// value) on the login transaction, for admins.
func (s *Store) SetTransactionAssessment(ctx context.Context, id string, assessment any) error {
	h, ok := transactionHash(id)
	if !ok {
		return ErrTransactionNotFound
	}
	if _, err := s.db(ctx).Exec(ctx, `update login_transactions set assessment = $2 where id_hash = $1`, h, assessment); err != nil {
		return fmt.Errorf("store assessment: %w", err)
	}
	return nil
}
