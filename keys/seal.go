package keys

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/gatehouse-id/gatehouse/masterkey"
)

// sealPurpose separates the key that seals signing keys from every other use
// of the master key.
const sealPurpose = "gatehouse signing keys v1"

// newSealer derives this package's AES-256-GCM key from the master key.
func newSealer(masterKey []byte) (cipher.AEAD, error) {
	aead, err := masterkey.AEAD(masterKey, sealPurpose)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return aead, nil
}

// seal encrypts key as PKCS#8 DER under a random nonce, which it prefixes to
// the result. The kid is the additional data, so a ciphertext moved onto
// another row fails to open.
func seal(aead cipher.AEAD, kid string, key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(der)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, der, []byte(kid)), nil
}

func open(aead cipher.AEAD, kid string, ciphertext []byte) (*rsa.PrivateKey, error) {
	n := aead.NonceSize()
	if len(ciphertext) < n {
		return nil, fmt.Errorf("%w (key %s is truncated)", ErrUndecryptable, kid)
	}
	der, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", ErrUndecryptable, kid)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decode signing key %s: %w", kid, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is a %T, not RSA", kid, parsed)
	}
	return key, nil
}

func newKID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// generate makes a key and seals it.
func generate(aead cipher.AEAD, bits int) (*rsa.PrivateKey, Sealed, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, Sealed{}, fmt.Errorf("generate signing key: %w", err)
	}
	kid := newKID()
	ct, err := seal(aead, kid, key)
	if err != nil {
		return nil, Sealed{}, err
	}
	return key, Sealed{ID: kid, Ciphertext: ct}, nil
}
