// Package passkeytest is a software authenticator together with the browser
// around it: given the options JSON a relying party hands to
// navigator.credentials.create or get, it answers with the JSON Chromium's
// PublicKeyCredential.toJSON() gives. Keys are ES256 (P-256); registration
// uses attestation format "none".
//
// Its fields are the knobs tests turn to answer as a real authenticator
// would not: another origin or RP ID, no user verification, flags of a
// synced passkey, a counter that goes backwards.
package passkeytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator holds credentials and answers ceremonies.
type Authenticator struct {
	// Origin is what the browser puts in clientDataJSON.
	Origin string
	// RPID, when set, replaces the options' RP ID in the authenticator data
	// (its hash), as an answer made for another site would carry.
	RPID string
	// UserVerified sets the UV flag (PIN or biometrics passed).
	UserVerified bool
	// BackupEligible and BackupState are the flags of a synced passkey.
	BackupEligible, BackupState bool
	// Counter is the signature counter: each answer adds one and reports the
	// result, unless FixedCounter (synced passkeys report zero throughout).
	// Set it lower to make the counter go backwards.
	Counter      uint32
	FixedCounter bool
	// Resident makes registrations discoverable: the credential keeps the
	// user handle and answers a get() with an empty allow list.
	Resident bool
	// Attachment is the authenticatorAttachment the browser reports.
	Attachment string
	// Transports are reported at registration.
	Transports []string
	// AAGUID identifies the authenticator model; zero by default, as most
	// authenticators report when no attestation is asked for.
	AAGUID [16]byte
	// IgnoreAllowList answers with a held credential even when the options
	// do not list it, as a hostile client could.
	IgnoreAllowList bool
	// ClientDataType, when set, replaces "webauthn.create"/"webauthn.get".
	ClientDataType string
	// NextCredentialID, when set, is the id of the next registered
	// credential instead of a random one (then it is cleared).
	NextCredentialID []byte

	creds []*credential
}

type credential struct {
	id         []byte
	rpID       string
	userHandle []byte
	key        *ecdsa.PrivateKey
}

// New returns a platform authenticator with user verification and
// discoverable credentials, answering for origin.
func New(origin string) *Authenticator {
	return &Authenticator{
		Origin: origin, UserVerified: true, Resident: true,
		Attachment: "platform", Transports: []string{"hybrid", "internal"},
	}
}

// CredentialIDs lists the ids of the credentials held, oldest first.
func (a *Authenticator) CredentialIDs() [][]byte {
	var ids [][]byte
	for _, c := range a.creds {
		ids = append(ids, c.id)
	}
	return ids
}

type descriptor struct {
	ID string `json:"id"`
}

type creationOptions struct {
	RP struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Challenge string       `json:"challenge"`
	Params    []param      `json:"pubKeyCredParams"`
	Exclude   []descriptor `json:"excludeCredentials"`
}

type param struct {
	Alg int `json:"alg"`
}

type requestOptions struct {
	Challenge string       `json:"challenge"`
	RPID      string       `json:"rpId"`
	Allow     []descriptor `json:"allowCredentials"`
}

// ErrExcluded is the InvalidStateError a browser raises when the
// authenticator already holds a credential the options exclude.
var ErrExcluded = errors.New("passkeytest: authenticator holds an excluded credential")

// ErrNoCredential is the NotAllowedError of a get() the authenticator has no
// credential for.
var ErrNoCredential = errors.New("passkeytest: no credential for this request")

const (
	flagUP   = 0x01
	flagUV   = 0x04
	flagBE   = 0x08
	flagBS   = 0x10
	flagAT   = 0x40
	algES256 = -7
)

// Register answers navigator.credentials.create(options).
func (a *Authenticator) Register(options []byte) ([]byte, error) {
	var o creationOptions
	if err := unwrap(options, &o); err != nil {
		return nil, err
	}
	if !slices.Contains(o.Params, param{Alg: algES256}) {
		return nil, errors.New("passkeytest: options do not accept ES256")
	}
	rpID := o.RP.ID
	for _, d := range o.Exclude {
		id, err := b64(d.ID)
		if err != nil {
			return nil, fmt.Errorf("passkeytest: excludeCredentials: %w", err)
		}
		if a.held(id, rpID) != nil {
			return nil, ErrExcluded
		}
	}
	handle, err := b64(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("passkeytest: user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &credential{id: a.NextCredentialID, rpID: rpID, key: key}
	a.NextCredentialID = nil
	if c.id == nil {
		c.id = make([]byte, 32)
		rand.Read(c.id)
	}
	if a.Resident {
		c.userHandle = handle
	}

	cose, err := coseKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	attested := slices.Concat(a.AAGUID[:], binary.BigEndian.AppendUint16(nil, uint16(len(c.id))), c.id, cose)
	authData := a.authData(a.rpID(rpID), flagAT, attested)
	attObj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	clientData, err := a.clientData("webauthn.create", o.Challenge)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, c)
	return json.Marshal(map[string]any{
		"id":                      enc(c.id),
		"rawId":                   enc(c.id),
		"type":                    "public-key",
		"authenticatorAttachment": a.Attachment,
		"clientExtensionResults":  map[string]any{},
		"response": map[string]any{
			"clientDataJSON":     enc(clientData),
			"attestationObject":  enc(attObj),
			"authenticatorData":  enc(authData),
			"publicKey":          enc(spki),
			"publicKeyAlgorithm": algES256,
			"transports":         a.transports(),
		},
	})
}

// Assert answers navigator.credentials.get(options): with the first held
// credential the allow list names, or, for an empty allow list, the newest
// discoverable one of the RP.
func (a *Authenticator) Assert(options []byte) ([]byte, error) {
	var o requestOptions
	if err := unwrap(options, &o); err != nil {
		return nil, err
	}
	c, err := a.pick(o, o.RPID)
	if err != nil {
		return nil, err
	}
	authData := a.authData(a.rpID(o.RPID), 0, nil)
	clientData, err := a.clientData("webauthn.get", o.Challenge)
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(slices.Concat(authData, hash[:]))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	resp := map[string]any{
		"clientDataJSON":    enc(clientData),
		"authenticatorData": enc(authData),
		"signature":         enc(sig),
	}
	if c.userHandle != nil {
		resp["userHandle"] = enc(c.userHandle)
	}
	return json.Marshal(map[string]any{
		"id":                      enc(c.id),
		"rawId":                   enc(c.id),
		"type":                    "public-key",
		"authenticatorAttachment": a.Attachment,
		"clientExtensionResults":  map[string]any{},
		"response":                resp,
	})
}

func (a *Authenticator) pick(o requestOptions, rpID string) (*credential, error) {
	for _, d := range o.Allow {
		id, err := b64(d.ID)
		if err != nil {
			return nil, fmt.Errorf("passkeytest: allowCredentials: %w", err)
		}
		if c := a.held(id, rpID); c != nil {
			return c, nil
		}
	}
	if len(o.Allow) > 0 && !a.IgnoreAllowList {
		return nil, ErrNoCredential
	}
	for i := len(a.creds) - 1; i >= 0; i-- {
		c := a.creds[i]
		if c.rpID == rpID && (c.userHandle != nil || a.IgnoreAllowList) {
			return c, nil
		}
	}
	return nil, ErrNoCredential
}

func (a *Authenticator) held(id []byte, rpID string) *credential {
	for _, c := range a.creds {
		if bytes.Equal(c.id, id) && c.rpID == rpID {
			return c
		}
	}
	return nil
}

func (a *Authenticator) rpID(fromOptions string) string {
	if a.RPID != "" {
		return a.RPID
	}
	return fromOptions
}

// authData is rpIdHash, flags, the big-endian counter and any attested
// credential data (WebAuthn §6.1).
func (a *Authenticator) authData(rpID string, flags byte, attested []byte) []byte {
	flags |= flagUP
	if a.UserVerified {
		flags |= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE
	}
	if a.BackupState {
		flags |= flagBS
	}
	if !a.FixedCounter {
		a.Counter++
	}
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.Counter)
	return append(out, attested...)
}

func (a *Authenticator) clientData(typ, challenge string) ([]byte, error) {
	if a.ClientDataType != "" {
		typ = a.ClientDataType
	}
	return json.Marshal(map[string]any{
		"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false,
	})
}

func (a *Authenticator) transports() []string {
	if a.Transports == nil {
		return []string{}
	}
	return a.Transports
}

// coseKey encodes an EC2 P-256 public key as a COSE_Key (RFC 9053).
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(map[int]any{
		1:  2,        // kty: EC2
		3:  algES256, // alg: ES256
		-1: 1,        // crv: P-256
		-2: raw[1:33],
		-3: raw[33:],
	})
}

// unwrap reads options given as {"publicKey": {...}} or bare.
func unwrap(options []byte, v any) error {
	var wrapped struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &wrapped); err != nil {
		return fmt.Errorf("passkeytest: options: %w", err)
	}
	if wrapped.PublicKey != nil {
		options = wrapped.PublicKey
	}
	if err := json.Unmarshal(options, v); err != nil {
		return fmt.Errorf("passkeytest: options: %w", err)
	}
	return nil
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
