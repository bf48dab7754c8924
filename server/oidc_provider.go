package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// TokenLifetimes are the OAuth lifetimes an operator may tune.
type TokenLifetimes struct {
	AccessToken   time.Duration // default 1h
	IDToken       time.Duration // default 1h
	AuthorizeCode time.Duration // default 1m: the SPA exchanges it at once
	RefreshIdle   time.Duration // an unused refresh token dies after this; default 15 days
	LoginFlow     time.Duration // time to finish the login screens; default 30m
}

func (l TokenLifetimes) withDefaults() TokenLifetimes {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.AccessToken, time.Hour)
	def(&l.IDToken, time.Hour)
	def(&l.AuthorizeCode, time.Minute)
	def(&l.RefreshIdle, 15*24*time.Hour)
	def(&l.LoginFlow, 30*time.Minute)
	return l
}

// oauthSecret derives fosite's HMAC secret for codes and refresh tokens from
// the master key, so every replica agrees without another setting.
func oauthSecret(masterKey []byte) []byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte("gatehouse oauth hmac v1"))
	return m.Sum(nil)
}

// newFositeProvider composes exactly the handlers Gatehouse offers; fosite's
// "all enabled" composition would also switch on implicit, hybrid and
// password grants.
func newFositeProvider(issuer string, masterKey []byte, lifetimes TokenLifetimes, storage any, signer *rotatingSigner) (fosite.OAuth2Provider, *fosite.Config) {
	cfg := &fosite.Config{
		IDTokenIssuer:                  issuer,
		AccessTokenIssuer:              issuer,
		AccessTokenLifespan:            lifetimes.AccessToken,
		IDTokenLifespan:                lifetimes.IDToken,
		AuthorizeCodeLifespan:          lifetimes.AuthorizeCode,
		RefreshTokenLifespan:           lifetimes.RefreshIdle,
		GlobalSecret:                   oauthSecret(masterKey),
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		RefreshTokenScopes:             []string{"offline_access"},
		MinParameterEntropy:            fosite.MinParameterEntropy,
		SendDebugMessagesToClients:     false,
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		ClientSecretsHasher:            sha256Hasher{},
		ResponseModeHandlerExtension:   webMessageHandler{},
		FormPostHTMLTemplate:           formPostTemplate,
	}
	hmacStrategy := compose.NewOAuth2HMACStrategy(cfg)
	strategy := &compose.CommonStrategy{
		CoreStrategy: &accessTokenStrategy{
			DefaultJWTStrategy: &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: hmacStrategy, Config: cfg},
			opaque:             hmacStrategy,
		},
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: idTokenSigner{signer}, Config: cfg},
		Signer:                     signer,
	}
	provider := compose.Compose(cfg, storage, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	return provider, cfg
}

// sha256Hasher checks client secrets. They are 384-bit random strings, so a
// fast hash is as safe as a slow one and keeps a confidential client's token
// request from costing 200 ms of bcrypt.
type sha256Hasher struct{}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	sum := sha256.Sum256(data)
	if subtle.ConstantTimeCompare(hash, sum[:]) != 1 {
		return errors.New("client secret mismatch")
	}
	return nil
}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return sum[:], nil
}
