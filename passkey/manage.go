package passkey

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const maxNameLen = 64

// List returns the user's passkeys, newest first, including any refused as
// cloned so the account page can say why it no longer works.
func (s *Service) List(ctx context.Context, userID string) ([]Credential, error) {
	creds, err := s.st.Passkeys(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	return creds, nil
}

// Has reports whether the user has a passkey that can still sign in.
func (s *Service) Has(ctx context.Context, userID string) (bool, error) {
	ok, err := s.st.HasPasskey(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("check passkeys: %w", err)
	}
	return ok, nil
}

// Rename gives the user's passkey a new name.
func (s *Service) Rename(ctx context.Context, userID string, id []byte, name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	return s.st.RenamePasskey(ctx, userID, id, name)
}

// Remove deletes the user's passkey and returns it as it was.
func (s *Service) Remove(ctx context.Context, userID string, id []byte) (Credential, error) {
	return s.st.RemovePasskey(ctx, userID, id)
}

// RemoveAll deletes every passkey of the user and says how many went.
func (s *Service) RemoveAll(ctx context.Context, userID string) (int, error) {
	n, err := s.st.RemovePasskeys(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("remove passkeys: %w", err)
	}
	return n, nil
}

// cleanName trims the name and refuses one that is empty, too long, not
// UTF-8 or carries control characters (which would break lists and logs).
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen {
		return "", ErrBadName
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", ErrBadName
	}
	return name, nil
}
