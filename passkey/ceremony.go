package passkey

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// begin stores the library's session as a ceremony and returns its id.
func (s *Service) begin(ctx context.Context, kind, userID, binding string, session *webauthn.SessionData) (string, error) {
	if binding == "" {
		return "", errors.New("passkey ceremony without a binding")
	}
	data, err := json.Marshal(session)
	if err != nil {
		return "", fmt.Errorf("encode passkey session: %w", err)
	}
	id := rand.Text()
	err = s.st.PutCeremony(ctx, Ceremony{
		ID: id, Binding: binding, Kind: kind, UserID: userID, SessionData: data, ExpiresAt: s.now().Add(s.ttl),
	})
	if err != nil {
		return "", fmt.Errorf("begin passkey ceremony: %w", err)
	}
	return id, nil
}

// take consumes the ceremony and returns its session if it is of kind,
// unexpired and, for a user's ceremony, that user's. Any mismatch is
// ErrCeremonyNotFound: to the caller every such ceremony is gone.
func (s *Service) take(ctx context.Context, kind, userID, binding, id string) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if !wellFormedID(id) || binding == "" {
		return session, ErrCeremonyNotFound
	}
	c, err := s.st.TakeCeremony(ctx, id, binding)
	if err != nil {
		return session, err
	}
	if c.Kind != kind || c.UserID != userID || !s.now().Before(c.ExpiresAt) {
		return session, ErrCeremonyNotFound
	}
	if err := json.Unmarshal(c.SessionData, &session); err != nil {
		return session, fmt.Errorf("decode passkey session: %w", err)
	}
	return session, nil
}

// wellFormedID reports whether id could be one begin made (rand.Text:
// 26 characters of the base32 alphabet). Anything else, NUL bytes and
// invalid UTF-8 included, is no ceremony, without asking the database.
func wellFormedID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range []byte(id) {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// marshalOptions gives the JSON the browser passes to
// navigator.credentials.create or get.
func marshalOptions(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode passkey options: %w", err)
	}
	return b, nil
}

// verificationFailed wraps the library's refusal; its DevInfo says which
// check failed (origin, RP id, challenge …), which logs need.
func verificationFailed(err error) error {
	return fmt.Errorf("%w: %w%s", ErrVerification, err, devInfo(err))
}

func devInfo(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return " (" + pe.DevInfo + ")"
	}
	return ""
}

func checkSize(response []byte) error {
	if len(response) > maxResponseSize {
		return fmt.Errorf("%w: response of %d bytes is over %d", ErrVerification, len(response), maxResponseSize)
	}
	return nil
}

// userHandle is the WebAuthn user handle: the 16 bytes of the users.id UUID,
// so the authenticator holds no personal data such as the email.
func userHandle(userID string) ([]byte, error) {
	u, err := uuid.Parse(userID)
	if err != nil {
		return nil, fmt.Errorf("passkey user id %q: %w", userID, err)
	}
	return u[:], nil
}

// waUser is a User with credentials as go-webauthn wants it.
type waUser struct {
	handle []byte
	User
	creds []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.Name }
func (u *waUser) WebAuthnDisplayName() string                { return u.DisplayName }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newWAUser(u User, creds []Credential) (*waUser, error) {
	h, err := userHandle(u.ID)
	if err != nil {
		return nil, err
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	wu := &waUser{handle: h, User: u}
	for _, c := range creds {
		wu.creds = append(wu.creds, c.webauthn())
	}
	return wu, nil
}

// webauthn is the credential as the library's record of it.
func (c Credential) webauthn() webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	var transports []protocol.AuthenticatorTransport
	for _, t := range c.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID:                c.ID,
		PublicKey:         c.PublicKey,
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags:             webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{
			AAGUID:       c.AAGUID,
			SignCount:    c.SignCount,
			CloneWarning: c.CloneWarning,
			Attachment:   protocol.AuthenticatorAttachment(c.Attachment),
		},
	}
}

func descriptors(creds []Credential) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range creds {
		wc := c.webauthn()
		out = append(out, wc.Descriptor())
	}
	return out
}
