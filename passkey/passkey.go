// Package passkey registers passkeys and security keys (WebAuthn) and signs
// users in with them, as a second factor or without a password.
//
//	Begin* ─► challenge + session data stored as a ceremony (CeremonyTTL),
//	          options JSON for navigator.credentials.create/get
//	Finish* ─► ceremony taken (deleted) under the same binding, whatever follows
//	          ├─ unknown, expired, used, other binding ─► ErrCeremonyNotFound
//	          ├─ response refused by the WebAuthn checks ─► ErrVerification
//	          └─ registration: credential stored (ErrAlreadyRegistered, ErrTooMany)
//	             sign-in: counter checked and advanced in one statement (ErrCloned)
//
// Verification is go-webauthn's; this package decides what is stored, which
// credentials a ceremony may use and what a failure means to the caller.
package passkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-id/gatehouse/limits"
)

// Errors a caller can act on. Their text is for logs; the server chooses the
// words a person sees.
var (
	ErrCeremonyNotFound         = errors.New("passkey ceremony not found: unknown, expired, already used or begun in another browser")
	ErrVerification             = errors.New("passkey response failed verification")
	ErrUnknownCredential        = errors.New("passkey is not registered to this user")
	ErrCloned                   = errors.New("passkey signature counter went backwards: the key may have been copied and is refused")
	ErrUserVerificationRequired = errors.New("passkey sign-in without a password needs user verification (PIN or biometrics)")
	ErrNoCredentials            = errors.New("user has no passkeys")
	ErrAlreadyRegistered        = errors.New("passkey is already registered")
	ErrBadName                  = errors.New("passkey name must be 1 to 64 characters without control characters")
	ErrTooMany                  = errors.New("user has the most passkeys allowed")
	ErrTooManyCeremonies        = errors.New("too many passkey sign-ins begun from this address: wait and try again")
)

// MaxPerUser caps a user's passkeys so that sign-in options and the account
// page stay small.
const MaxPerUser = 20

// maxResponseSize bounds the JSON a browser may send: real responses are a
// few KiB, and nothing larger is read into memory or parsed.
const maxResponseSize = 64 << 10

const defaultCeremonyTTL = 5 * time.Minute

// DefaultAnonymousPerIP bounds the passwordless ceremonies one address (an
// IPv6 /64) may begin: anyone may ask for one, and each is a row until it
// expires, so a flood from one place costs at most this many rows per
// window. A person needs one or two per sign-in.
var DefaultAnonymousPerIP = limits.Limit{Max: 60, Window: 10 * time.Minute}

// Ceremony kinds, as stored.
const (
	kindRegister     = "register"
	kindLogin        = "login"
	kindDiscoverable = "discoverable"
)

// Config is the relying party: RPID is the issuer's host, Origins the issuer's
// origin, RPName the name an authenticator shows next to the key.
type Config struct {
	RPID        string
	RPName      string
	Origins     []string
	CeremonyTTL time.Duration
	// AnonymousPerIP bounds passwordless ceremonies per address; zero
	// means DefaultAnonymousPerIP.
	AnonymousPerIP limits.Limit
}

// ConfigFromIssuer derives the relying party from the issuer URL. Browsers
// accept only domain names as RP IDs, so an issuer on an IP address cannot
// offer passkeys and gets an error.
func ConfigFromIssuer(issuer, name string) (Config, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return Config{}, fmt.Errorf("passkey relying party from issuer %q: not an absolute http(s) URL", issuer)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return Config{}, fmt.Errorf("passkey relying party from issuer %q: an IP address cannot be an RP ID", issuer)
	}
	return Config{RPID: host, RPName: name, Origins: []string{u.Scheme + "://" + u.Host}}, nil
}

// Deps are the service's collaborators; Now defaults to time.Now.
type Deps struct {
	Store Store
	Now   func() time.Time
}

// Service runs WebAuthn ceremonies and manages users' passkeys.
type Service struct {
	wa    *webauthn.WebAuthn
	ttl   time.Duration
	perIP limits.Limit
	st    Store
	now   func() time.Time
}

// New checks the relying party and builds the service.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Store == nil {
		return nil, errors.New("passkey: no store")
	}
	if err := protocol.ValidateRPID(cfg.RPID); err != nil {
		return nil, fmt.Errorf("passkey relying party id %q: %w", cfg.RPID, err)
	}
	if cfg.RPName == "" {
		cfg.RPName = cfg.RPID
	}
	if cfg.CeremonyTTL <= 0 {
		cfg.CeremonyTTL = defaultCeremonyTTL
	}
	if !cfg.AnonymousPerIP.On() {
		cfg.AnonymousPerIP = DefaultAnonymousPerIP
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	// The browser's timeout matches the ceremony's lifetime; the library's own
	// expiry stays off because it reads the wall clock, and ours is the
	// ceremony row's expires_at against the injected clock.
	timeout := webauthn.TimeoutConfig{Timeout: cfg.CeremonyTTL, TimeoutUVD: cfg.CeremonyTTL}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey relying party: %w", err)
	}
	return &Service{wa: wa, ttl: cfg.CeremonyTTL, perIP: cfg.AnonymousPerIP, st: d.Store, now: d.Now}, nil
}

// User is who registers or signs in: ID is the users.id UUID, Name the
// email, DisplayName the person's name.
type User struct{ ID, Name, DisplayName string }

// Credential is a registered passkey or security key.
type Credential struct {
	ID                []byte
	UserID            string
	Name              string
	Authenticator     string
	AAGUID            []byte
	Transports        []string
	Attachment        string
	BackupEligible    bool
	BackupState       bool
	UserVerified      bool
	SignCount         uint32
	CloneWarning      bool
	CreatedAt         time.Time
	LastUsedAt        time.Time
	PublicKey         []byte // COSE_Key
	AttestationFormat string
}

// Method is the credential's RFC 8176 amr value: "swk" for a key that can
// be synced off the device (backup eligible), "hwk" for one bound to it.
func (c Credential) Method() string {
	if c.BackupEligible {
		return "swk"
	}
	return "hwk"
}

// Assertion is a passed sign-in: whose, with which credential (as stored
// after this use), and whether the user was verified this time.
type Assertion struct {
	UserID       string
	Credential   Credential
	UserVerified bool
}

// Ceremony is a begun registration or sign-in as stored. UserID is empty
// for a discoverable sign-in; SessionData is go-webauthn's session as JSON.
type Ceremony struct {
	ID          string
	Binding     string
	Kind        string
	UserID      string
	SessionData []byte
	ExpiresAt   time.Time
}

// Use is what a passed assertion reports to be stored with the credential.
type Use struct {
	SignCount   uint32
	BackupState bool
	At          time.Time
}

// Store keeps credentials and ceremonies.
type Store interface {
	PutCeremony(ctx context.Context, c Ceremony) error
	// TakeCounters counts ceremonies under keys of their own ("passkey-ip:…").
	limits.Store
	// TakeCeremony deletes and returns the ceremony with this id and
	// binding, expired or not; ErrCeremonyNotFound if there is none.
	TakeCeremony(ctx context.Context, id, binding string) (Ceremony, error)

	// AddPasskey stores a new credential: ErrAlreadyRegistered if its id
	// is stored for anyone, ErrTooMany if the user already has max.
	AddPasskey(ctx context.Context, c Credential, max int) error
	// Passkeys lists the user's credentials, newest first.
	Passkeys(ctx context.Context, userID string) ([]Credential, error)
	// PasskeyByID returns the credential or ErrUnknownCredential.
	PasskeyByID(ctx context.Context, id []byte) (Credential, error)
	// HasPasskey reports whether the user has a credential not refused as
	// cloned.
	HasPasskey(ctx context.Context, userID string) (bool, error)
	// UsePasskey records a passed assertion in one statement: if both the
	// stored and the new counter are non-zero and the new one is not
	// higher, or the credential was flagged before, it flags the credential
	// (clone_warning) and returns ErrCloned; otherwise it stores the higher
	// counter, the backup state and the time, and returns the credential.
	// ErrUnknownCredential if the credential is not the user's.
	UsePasskey(ctx context.Context, userID string, id []byte, u Use) (Credential, error)
	// RenamePasskey and RemovePasskey answer ErrUnknownCredential if the
	// credential is not the user's.
	RenamePasskey(ctx context.Context, userID string, id []byte, name string) error
	RemovePasskey(ctx context.Context, userID string, id []byte) (Credential, error)
	RemovePasskeys(ctx context.Context, userID string) (int, error)
}
