package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse-id/gatehouse/keys"
)

// rotatingSigner is fosite's jwt.Signer over rotating keys. It signs RS256
// with the current key and names it in the kid header; it verifies with
// whichever published key the token's kid names. fosite's own DefaultSigner
// verifies with the current key only, so after a rotation it would refuse an
// id_token_hint or a JWT access token signed a minute earlier.
type rotatingSigner struct {
	keys *keys.Manager
}

var _ jwt.Signer = (*rotatingSigner)(nil)

func newRotatingSigner(m *keys.Manager) *rotatingSigner { return &rotatingSigner{keys: m} }

// Generate signs claims and returns the token and its signature. Headers from
// the caller are kept except alg and kid, which are the signer's to set.
func (s *rotatingSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("either claims or header is nil")
	}
	kid, key, err := s.keys.Signing(ctx)
	if err != nil {
		return "", "", err
	}
	tok := jwt.NewWithClaims(jose.RS256, claims)
	for k, v := range header.ToMap() {
		if k != "alg" && k != "kid" {
			tok.Header[k] = v
		}
	}
	tok.Header["kid"] = kid
	raw, err := tok.SignedString(key)
	if err != nil {
		return "", "", err
	}
	sig, err := s.GetSignature(ctx, raw)
	if err != nil {
		return "", "", err
	}
	return raw, sig, nil
}

// Decode verifies token with the published key its kid names and validates
// its claims. Like fosite's signer it returns the parsed token along with a
// *jwt.ValidationError, so callers can accept, say, an expired id_token_hint.
func (s *rotatingSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		if t.Method != jose.RS256 {
			return nil, fmt.Errorf("token signed with %q, not RS256", t.Method)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no signing key (kid)")
		}
		return s.keys.PublicKey(ctx, kid)
	})
}

// Validate verifies token as Decode does and returns its signature.
func (s *rotatingSigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// GetSignature returns the third part of a compact JWS.
func (s *rotatingSigner) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("header, body and signature must all be set")
	}
	return parts[2], nil
}

func (s *rotatingSigner) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (s *rotatingSigner) GetSigningMethodLength(context.Context) int { return sha256.Size }
