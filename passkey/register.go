package passkey

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginRegistration starts adding a passkey for u. The options exclude the
// user's existing credentials, so an authenticator that already holds one
// says so instead of making a second.
func (s *Service) BeginRegistration(ctx context.Context, u User, binding string) (ceremonyID string, options []byte, err error) {
	existing, err := s.st.Passkeys(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if len(existing) >= MaxPerUser {
		return "", nil, ErrTooMany
	}
	wu, err := newWAUser(u, existing)
	if err != nil {
		return "", nil, err
	}
	creation, session, err := s.wa.BeginRegistration(wu, webauthn.WithExclusions(descriptors(existing)))
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	if options, err = marshalOptions(creation); err != nil {
		return "", nil, err
	}
	if ceremonyID, err = s.begin(ctx, kindRegister, u.ID, binding, session); err != nil {
		return "", nil, err
	}
	return ceremonyID, options, nil
}

// FinishRegistration checks the browser's answer to the ceremony and stores
// the new credential under name, or under the authenticator's name when name
// is empty. A bad name is refused before the ceremony is used, so the user
// can correct it and send the same answer again.
func (s *Service) FinishRegistration(ctx context.Context, u User, binding, ceremonyID, name string, response []byte) (Credential, error) {
	if err := checkSize(response); err != nil {
		return Credential{}, err
	}
	explicit := name != ""
	if explicit {
		var err error
		if name, err = cleanName(name); err != nil {
			return Credential{}, err
		}
	}
	session, err := s.take(ctx, kindRegister, u.ID, binding, ceremonyID)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, verificationFailed(err)
	}
	existing, err := s.st.Passkeys(ctx, u.ID)
	if err != nil {
		return Credential{}, fmt.Errorf("finish passkey registration: %w", err)
	}
	wu, err := newWAUser(u, existing)
	if err != nil {
		return Credential{}, err
	}
	wc, err := s.wa.CreateCredential(wu, session, parsed)
	if err != nil {
		return Credential{}, verificationFailed(err)
	}
	c := Credential{
		ID:                wc.ID,
		UserID:            u.ID,
		AAGUID:            wc.Authenticator.AAGUID,
		Transports:        transports(wc.Transport),
		Attachment:        string(wc.Authenticator.Attachment),
		BackupEligible:    wc.Flags.BackupEligible,
		BackupState:       wc.Flags.BackupState,
		UserVerified:      wc.Flags.UserVerified,
		SignCount:         wc.Authenticator.SignCount,
		CreatedAt:         s.now(),
		PublicKey:         wc.PublicKey,
		AttestationFormat: wc.AttestationFormat,
	}
	c.Authenticator = AuthenticatorName(c.AAGUID, c.Attachment, c.BackupEligible)
	c.Name = c.Authenticator
	if explicit {
		c.Name = name
	}
	if err := s.st.AddPasskey(ctx, c, MaxPerUser); err != nil {
		return Credential{}, err
	}
	return c, nil
}

// transports keeps the transports the specification defines, once each; the
// browser reports them and they go back into allowCredentials as hints.
func transports(in []protocol.AuthenticatorTransport) []string {
	out := []string{}
	for _, t := range in {
		switch t {
		case protocol.USB, protocol.NFC, protocol.BLE, protocol.SmartCard, protocol.Hybrid, protocol.Internal:
			if !slices.Contains(out, string(t)) {
				out = append(out, string(t))
			}
		}
	}
	return out
}
