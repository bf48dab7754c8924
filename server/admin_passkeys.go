package server

import (
	"context"
	"net/http"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/passkey"
)

// removePasskeyBy removes one of u's passkeys on an admin's word, from the
// console or the API: audited as the user's own removal is, with who did
// it, and announced to the user, who did not do it themselves.
// passkey.ErrUnknownCredential if the passkey is not u's (any more).
func (s *Server) removePasskeyBy(r *http.Request, u account.User, id []byte, by string) (passkey.Credential, error) {
	if s.passkeys == nil || id == nil {
		// Without a relying party the user pages list no passkeys, so
		// none can be named here either.
		return passkey.Credential{}, passkey.ErrUnknownCredential
	}
	cred, err := s.removePasskey(r, u.ID, id)
	if err != nil {
		return cred, err
	}
	s.audit(r, account.Event{Type: "mfa." + string(account.ChangePasskeyRemoved), UserID: u.ID, Subject: u.Email,
		Details: map[string]any{"passkey": cred.Name, "authenticator": cred.Authenticator, "by": by}})
	s.announce(r, u, account.ChangePasskeyRemoved)
	return cred, nil
}

// removePasskey removes one of the user's passkeys as any factor is removed:
// under the user's MFA lock, the recovery codes going with the last factor.
func (s *Server) removePasskey(r *http.Request, userID string, id []byte) (passkey.Credential, error) {
	var cred passkey.Credential
	err := s.mfa.RemoveAlongside(r.Context(), userID, func(ctx context.Context) (err error) {
		cred, err = s.passkeys.Remove(ctx, userID, id)
		return err
	})
	return cred, err
}
