package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/gatehouse-id/gatehouse/keys"
)

// memKeyStore keeps sealed keys in memory. The Postgres store is tested in
// package store and the Manager in package keys; here only the adapter to
// fosite is under test, and this package's TestMain does not give internal
// tests a database.
type memKeyStore struct {
	mu   sync.Mutex
	rows []keys.Sealed
}

func (s *memKeyStore) SigningKeys(context.Context) ([]keys.Sealed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]keys.Sealed(nil), s.rows...), nil
}

func (s *memKeyStore) InitSigningKeys(_ context.Context, current, next keys.Sealed) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rows) > 0 {
		return false, nil
	}
	s.rows = []keys.Sealed{current, next}
	return true, nil
}

func (s *memKeyStore) RotateSigningKeys(_ context.Context, newNext keys.Sealed, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hasNext := false
	for _, r := range s.rows {
		hasNext = hasNext || r.State == keys.Next
	}
	if !hasNext {
		return keys.ErrNoNextKey
	}
	for i, r := range s.rows {
		switch r.State {
		case keys.Current:
			s.rows[i].State, s.rows[i].RetiredAt = keys.Retired, now
		case keys.Next:
			s.rows[i].State, s.rows[i].ActivatedAt = keys.Current, now
		}
	}
	newNext.State = keys.Next
	s.rows = append(s.rows, newNext)
	return nil
}

func (s *memKeyStore) PurgeSigningKeys(_ context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.rows[:0]
	for _, r := range s.rows {
		if r.State != keys.Retired || !r.RetiredAt.Before(before) {
			kept = append(kept, r)
		}
	}
	n := int64(len(s.rows) - len(kept))
	s.rows = kept
	return n, nil
}

func newTestSigner(t *testing.T) (*rotatingSigner, *keys.Manager) {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	m, err := keys.NewManager(&memKeyStore{}, master, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newRotatingSigner(m), m
}

func testClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "user-1", "aud": "client-1", "exp": time.Now().Add(time.Hour).Unix()}
}

func TestSignerVerifiesTokensSignedBeforeARotation(t *testing.T) {
	ctx := context.Background()
	s, m := newTestSigner(t)
	oldKID, _, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, oldSig, err := s.Generate(ctx, testClaims(), jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	newKID, _, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := s.Generate(ctx, testClaims(), jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}

	for name, tc := range map[string]struct{ token, kid string }{
		"signed before the rotation": {old, oldKID},
		"signed after the rotation":  {fresh, newKID},
	} {
		tok, err := s.Decode(ctx, tc.token)
		if err != nil || !tok.Valid() || tok.Header["kid"] != tc.kid || tok.Claims["sub"] != "user-1" {
			t.Fatalf("%s: decode = %v (kid %v), %v; want valid with kid %s", name, tok.Valid(), tok.Header["kid"], err, tc.kid)
		}
	}
	if sig, err := s.Validate(ctx, old); err != nil || sig != oldSig || !strings.HasSuffix(old, "."+sig) {
		t.Fatalf("validate old token = %q, %v; want its signature %q", sig, err, oldSig)
	}
}

func TestSignerSetsItsOwnAlgAndKID(t *testing.T) {
	ctx := context.Background()
	s, m := newTestSigner(t)
	kid, _, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := jwt.NewHeaders()
	h.Add("kid", "chosen-by-caller")
	h.Add("alg", "none")
	h.Add("typ", "at+jwt")
	token, _, err := s.Generate(ctx, testClaims(), h)
	if err != nil {
		t.Fatal(err)
	}
	hdr := decodeSegment(t, token, 0)
	if hdr["alg"] != "RS256" || hdr["kid"] != kid || hdr["typ"] != "at+jwt" {
		t.Fatalf("header %v; want alg RS256, kid %s, the caller's typ", hdr, kid)
	}
}

func TestSignerRefusesOtherAlgorithmsAndUnknownKeys(t *testing.T) {
	ctx := context.Background()
	s, m := newTestSigner(t)
	kid, key, err := m.Signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	valid, _, err := s.Generate(ctx, testClaims(), jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Split(valid, ".")[1]
	pubJSON, err := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}

	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{
		"alg none": unsigned(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}, payload),
		// HS256 keyed with the public key: the classic algorithm confusion.
		"HS256 keyed with the public key": hs256(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}, payload, pubJSON),
		"unknown kid":                     rs256(t, stranger, "no-such-key"),
		"no kid":                          rs256(t, key, ""),
		"another key under a known kid":   rs256(t, stranger, kid),
		"signature cut off":               strings.Join(strings.Split(valid, ".")[:2], ".") + ".",
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			if tok, err := s.Decode(ctx, token); err == nil || tok.Valid() {
				t.Fatalf("decode accepted it")
			}
			if _, err := s.Validate(ctx, token); err == nil {
				t.Fatalf("validate accepted it")
			}
		})
	}
	// fosite's ValidationError has no Unwrap; the cause is its Inner.
	_, err = s.Decode(ctx, rs256(t, stranger, "no-such-key"))
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorUnverifiable) || !errors.Is(ve.Inner, keys.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v, want an unverifiable ValidationError caused by ErrUnknownKey", err)
	}
}

func TestSignerKeepsFositesErrorForExpiredTokens(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestSigner(t)
	token, _, err := s.Generate(ctx, jwt.MapClaims{"sub": "user-1", "exp": time.Now().Add(-time.Hour).Unix()}, jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Decode(ctx, token)
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorExpired) || tok == nil || tok.Claims["sub"] != "user-1" {
		t.Fatalf("expired token: %v, %v; want the claims and an expiry ValidationError (id_token_hint relies on it)", tok, err)
	}
}

func TestSignerOutputVerifiesAgainstTheJWKS(t *testing.T) {
	ctx := context.Background()
	s, m := newTestSigner(t)
	token, sig, err := s.Generate(ctx, testClaims(), jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(token)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	found := set.Key(h.KeyID)
	if h.Algorithm != "RS256" || len(found) != 1 {
		t.Fatalf("header alg %s kid %s; JWKS %s", h.Algorithm, h.KeyID, raw)
	}
	payload, err := jws.Verify(found[0])
	if err != nil {
		t.Fatalf("verify with the JWKS key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["sub"] != "user-1" {
		t.Fatalf("claims %v, %v", claims, err)
	}
	if got, err := s.GetSignature(ctx, token); err != nil || got != sig {
		t.Fatalf("GetSignature = %q, Generate said %q", got, sig)
	}
	if _, err := s.GetSignature(ctx, "a.b"); err == nil {
		t.Fatal("GetSignature accepted a token without a signature part")
	}
	sum := sha256.Sum256([]byte("x"))
	if h, err := s.Hash(ctx, []byte("x")); err != nil || string(h) != string(sum[:]) || s.GetSigningMethodLength(ctx) != len(h) {
		t.Fatalf("Hash = %x, length %d; want SHA-256", h, s.GetSigningMethodLength(ctx))
	}
}

func decodeSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeHeader(t *testing.T, h map[string]any) string {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func unsigned(t *testing.T, h map[string]any, payload string) string {
	return encodeHeader(t, h) + "." + payload + "."
}

func hs256(t *testing.T, h map[string]any, payload string, secret []byte) string {
	input := encodeHeader(t, h) + "." + payload
	mac := hmac.New(sha256.New, secret)
	if _, err := mac.Write([]byte(input)); err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// rs256 signs test claims with key, naming kid in the header.
func rs256(t *testing.T, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jose.RS256, testClaims())
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
