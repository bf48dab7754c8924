package passkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/limits"
)

// BeginLogin starts a second-factor sign-in of a known user, offering the
// user's credentials except those refused as cloned.
func (s *Service) BeginLogin(ctx context.Context, userID, binding string) (ceremonyID string, options []byte, err error) {
	creds, err := s.st.Passkeys(ctx, userID)
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	creds = slices.DeleteFunc(creds, func(c Credential) bool { return c.CloneWarning })
	if len(creds) == 0 {
		return "", nil, ErrNoCredentials
	}
	wu, err := newWAUser(User{ID: userID}, creds)
	if err != nil {
		return "", nil, err
	}
	assertion, session, err := s.wa.BeginLogin(wu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.beginAssertion(ctx, kindLogin, userID, binding, assertion, session)
}

// BeginDiscoverable starts a sign-in without a username: the browser offers
// whichever passkey of this site the user picks, and the passkey names the
// user. As it replaces the password, it requires user verification. Anyone
// may begin one, so each address may begin only so many per window
// (ErrTooManyCeremonies).
func (s *Service) BeginDiscoverable(ctx context.Context, binding string, from netip.Addr) (ceremonyID string, options []byte, err error) {
	_, ok, err := limits.Take(ctx, s.st, limits.Counters("ip", "passkey-ip:"+limits.IPKey(from), s.now(), s.perIP))
	if err != nil {
		return "", nil, fmt.Errorf("count passkey sign-ins: %w", err)
	}
	if !ok {
		return "", nil, ErrTooManyCeremonies
	}
	assertion, session, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	return s.beginAssertion(ctx, kindDiscoverable, "", binding, assertion, session)
}

func (s *Service) beginAssertion(ctx context.Context, kind, userID, binding string, assertion *protocol.CredentialAssertion, session *webauthn.SessionData) (string, []byte, error) {
	options, err := marshalOptions(assertion)
	if err != nil {
		return "", nil, err
	}
	id, err := s.begin(ctx, kind, userID, binding, session)
	if err != nil {
		return "", nil, err
	}
	return id, options, nil
}

// FinishLogin checks a second-factor answer: the credential must be the
// user's, offered by the ceremony, and not refused as cloned.
func (s *Service) FinishLogin(ctx context.Context, userID, binding, ceremonyID string, response []byte) (Assertion, error) {
	if err := checkSize(response); err != nil {
		return Assertion{}, err
	}
	session, err := s.take(ctx, kindLogin, userID, binding, ceremonyID)
	if err != nil {
		return Assertion{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Assertion{}, verificationFailed(err)
	}
	creds, err := s.st.Passkeys(ctx, userID)
	if err != nil {
		return Assertion{}, fmt.Errorf("finish passkey sign-in: %w", err)
	}
	i := slices.IndexFunc(creds, func(c Credential) bool { return bytes.Equal(c.ID, parsed.RawID) })
	if i < 0 || !slices.ContainsFunc(session.AllowedCredentialIDs, func(id []byte) bool { return bytes.Equal(id, parsed.RawID) }) {
		return Assertion{}, ErrUnknownCredential
	}
	if creds[i].CloneWarning {
		return Assertion{}, ErrCloned
	}
	// A credential removed since the ceremony began (in another tab, say)
	// leaves the allow list; the library would otherwise refuse every answer
	// because the user no longer owns all the listed credentials.
	session.AllowedCredentialIDs = slices.DeleteFunc(session.AllowedCredentialIDs, func(id []byte) bool {
		return !slices.ContainsFunc(creds, func(c Credential) bool { return bytes.Equal(c.ID, id) })
	})
	wu, err := newWAUser(User{ID: userID}, creds)
	if err != nil {
		return Assertion{}, err
	}
	if _, err := s.wa.ValidateLogin(wu, session, parsed); err != nil {
		return Assertion{}, verificationFailed(err)
	}
	return s.use(ctx, creds[i], parsed)
}

// FinishDiscoverable checks a sign-in without a username: the credential id
// finds the credential, and the user handle the authenticator returned must
// name the credential's owner.
func (s *Service) FinishDiscoverable(ctx context.Context, binding, ceremonyID string, response []byte) (Assertion, error) {
	if err := checkSize(response); err != nil {
		return Assertion{}, err
	}
	session, err := s.take(ctx, kindDiscoverable, "", binding, ceremonyID)
	if err != nil {
		return Assertion{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Assertion{}, verificationFailed(err)
	}
	c, err := s.st.PasskeyByID(ctx, parsed.RawID)
	if err != nil {
		return Assertion{}, err
	}
	handle, err := userHandle(c.UserID)
	if err != nil {
		return Assertion{}, err
	}
	if !bytes.Equal(parsed.Response.UserHandle, handle) {
		return Assertion{}, ErrUnknownCredential
	}
	if c.CloneWarning {
		return Assertion{}, ErrCloned
	}
	wu, err := newWAUser(User{ID: c.UserID}, []Credential{c})
	if err != nil {
		return Assertion{}, err
	}
	owner := func(rawID, userHandle []byte) (webauthn.User, error) { return wu, nil }
	if _, _, err := s.wa.ValidatePasskeyLogin(owner, session, parsed); err != nil {
		if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
			return Assertion{}, fmt.Errorf("%w: %v%s", ErrUserVerificationRequired, err, devInfo(err))
		}
		return Assertion{}, verificationFailed(err)
	}
	return s.use(ctx, c, parsed)
}

// use records a verified assertion. The counter is checked by the store in
// the statement that advances it, so two answers racing with one counter
// value cannot both pass.
func (s *Service) use(ctx context.Context, c Credential, parsed *protocol.ParsedCredentialAssertionData) (Assertion, error) {
	flags := parsed.Response.AuthenticatorData.Flags
	stored, err := s.st.UsePasskey(ctx, c.UserID, c.ID, Use{
		SignCount:   parsed.Response.AuthenticatorData.Counter,
		BackupState: flags.HasBackupState(),
		At:          s.now(),
	})
	if err != nil {
		if errors.Is(err, ErrCloned) || errors.Is(err, ErrUnknownCredential) {
			return Assertion{}, err
		}
		return Assertion{}, fmt.Errorf("record passkey sign-in: %w", err)
	}
	return Assertion{UserID: c.UserID, Credential: stored, UserVerified: flags.HasUserVerified()}, nil
}
