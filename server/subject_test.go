package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/auth0export"
	"github.com/gatehouse-id/gatehouse/settings"
)

const auth0Subject = "auth0|60d5f1c2a9b3e40068a1b2c3"

// importFromAuth0 imports the lines of an Auth0 export as `gatehouse import
// auth0` does, and returns the users it created.
func (h *harness) importFromAuth0(t *testing.T, export string) []account.User {
	t.Helper()
	var users []account.User
	err := auth0export.Read(strings.NewReader(export), func(rec auth0export.Record, lineErr error) error {
		if lineErr != nil {
			t.Fatalf("export line refused: %v", lineErr)
		}
		u, err := h.accounts.ImportUser(context.Background(), account.Imported{Email: rec.Email, Name: rec.Name,
			EmailVerified: rec.EmailVerified, PasswordHash: rec.PasswordHash, CreatedAt: rec.CreatedAt, Source: "auth0",
			ExternalID: rec.UserID, UserMetadata: rec.UserMetadata, AppMetadata: rec.AppMetadata}, account.Meta{})
		if err != nil {
			t.Fatalf("import %s: %v", rec.Email, err)
		}
		users = append(users, u)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// importedBrowser imports a user with Auth0's user_id auth0Subject and their
// Auth0 (bcrypt) password, and signs them in.
func importedBrowser(t *testing.T, h *harness) (*http.Client, account.User) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	users := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com","email_verified":true,"name":"Imp Orted",`+
		`"custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"`+string(hash)+`"}},`+
		`"user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro","roles":["editor"]}}`+"\n")
	b := h.browser()
	h.logIn(b, "imp@example.com", goodPassword).expectRedirect(t, "/account")
	return b, users[0]
}

// subOfJWT verifies an access token with the issuer's keys, as an API does,
// and returns its sub.
func (p *rp) subOfAccessToken(t *testing.T, token string) string {
	t.Helper()
	at, err := p.provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	return at.Subject
}

func (p *rp) subOfUserinfo(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	info, err := p.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	return info.Subject
}

// An app whose data is keyed by Auth0's user ids keeps working: the imported
// user's ID token, access token, userinfo and introspection all say the
// Auth0 user_id, at login and after every refresh.
func TestImportedUserKeepsTheirAuth0SubjectInEveryToken(t *testing.T) {
	h := newHarness(t)
	spa := h.newSPA(t)
	web := spa.webClient(t, "web")
	b, user := importedBrowser(t, h)
	if user.ID == auth0Subject || !isUUIDString(user.ID) {
		t.Fatalf("the imported user's id is %q; it stays a UUID inside Gatehouse", user.ID)
	}

	tok, _ := spa.login(t, b)
	for round := range 3 {
		if got := spa.verifyIDToken(t, tok).Subject; got != auth0Subject {
			t.Errorf("round %d: ID token sub %q, want %q", round, got, auth0Subject)
		}
		if got := spa.subOfAccessToken(t, tok.AccessToken); got != auth0Subject {
			t.Errorf("round %d: access token (JWT) sub %q, want %q", round, got, auth0Subject)
		}
		if got := spa.subOfUserinfo(t, tok); got != auth0Subject {
			t.Errorf("round %d: userinfo sub %q, want %q", round, got, auth0Subject)
		}
		tok = spa.refresh(t, tok)
	}

	// Without an API named the access token is opaque: introspection and
	// userinfo say the same subject, before and after a refresh.
	opaque := web.loginWithoutAudience(t, b)
	for round := range 2 {
		if strings.Count(opaque.AccessToken, ".") == 2 {
			t.Fatalf("expected an opaque access token, got a JWT")
		}
		if got := web.introspect(t, opaque.AccessToken)["sub"]; got != auth0Subject {
			t.Errorf("round %d: introspection sub %v, want %q", round, got, auth0Subject)
		}
		if got := web.subOfUserinfo(t, opaque); got != auth0Subject {
			t.Errorf("round %d: userinfo (opaque token) sub %q, want %q", round, got, auth0Subject)
		}
		opaque = web.refresh(t, opaque)
	}
}

// New users' subjects follow the admin's setting: the id by default, or the
// shape of Auth0's database users for teams whose apps expect it. The id
// stays a UUID either way.
func TestNewUsersGetTheirSubjectInTheConfiguredStyle(t *testing.T) {
	h := newHarness(t)
	spa := h.newSPA(t)

	b := h.browser()
	h.signUp(b, "uuid@example.com").expectRedirect(t, "/account")
	tok, _ := spa.login(t, b)
	u, err := h.accounts.UserByEmail(context.Background(), "uuid@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := spa.verifyIDToken(t, tok).Subject; got != u.ID || u.Subject != u.ID {
		t.Errorf("default style: sub %q, subject %q, want both the id %q", got, u.Subject, u.ID)
	}

	if err := h.settings.Set(context.Background(), map[string]string{settings.KeySubjectStyle: "auth0"}, "test", account.Meta{}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * settings.CacheTTL)
	b = h.browser()
	h.signUp(b, "styled@example.com").expectRedirect(t, "/account")
	u, err = h.accounts.UserByEmail(context.Background(), "styled@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^auth0\|[0-9a-f]{24}$`).MatchString(u.Subject) || !isUUIDString(u.ID) {
		t.Fatalf("auth0 style: subject %q, id %q", u.Subject, u.ID)
	}
	tok, _ = spa.login(t, b)
	if got := spa.verifyIDToken(t, tok).Subject; got != u.Subject {
		t.Errorf("auth0 style: ID token sub %q, want %q", got, u.Subject)
	}
	if got := spa.subOfAccessToken(t, tok.AccessToken); got != u.Subject {
		t.Errorf("auth0 style: access token sub %q, want %q", got, u.Subject)
	}

	err = h.settings.Set(context.Background(), map[string]string{settings.KeySubjectStyle: "pairwise"}, "test", account.Meta{})
	var fields settings.FieldErrors
	if !errors.As(err, &fields) {
		t.Errorf("an unknown style was not refused as a field error: %v", err)
	}
}

// Discovery states the subject type: public, the same sub for every client.
func TestDiscoveryStatesPublicSubjects(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.DefaultClient, "GET", "/.well-known/openid-configuration", nil)
	var doc struct {
		SubjectTypes []string `json:"subject_types_supported"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.SubjectTypes, []string{"public"}) {
		t.Errorf("subject_types_supported = %v, want [public]", doc.SubjectTypes)
	}
}

// Two users cannot share a subject: a second import of the same Auth0 id
// under another address is refused, and the first user keeps it.
func TestAnImportedSubjectBelongsToOneUser(t *testing.T) {
	h := newHarness(t)
	h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"first@example.com"}`+"\n")
	_, err := h.accounts.ImportUser(context.Background(), account.Imported{Email: "second@example.com", Source: "auth0",
		ExternalID: auth0Subject}, account.Meta{})
	if !errors.Is(err, account.ErrSubjectTaken) {
		t.Fatalf("second user with the same subject: %v, want ErrSubjectTaken", err)
	}
	// Importing the same line again is a re-run: the address is taken.
	_, err = h.accounts.ImportUser(context.Background(), account.Imported{Email: "first@example.com", Source: "auth0",
		ExternalID: auth0Subject}, account.Meta{})
	if !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("re-run of an imported line: %v, want ErrEmailTaken", err)
	}
	for _, bad := range []string{"auth0|has space", "", strings.Repeat("x", 256), "tab\there"} {
		_, err := h.accounts.ImportUser(context.Background(), account.Imported{Email: "bad@example.com", ExternalID: bad}, account.Meta{})
		if bad == "" {
			if err != nil {
				t.Errorf("no user_id: %v, want a new subject", err)
			}
			continue
		}
		if !errors.Is(err, account.ErrInvalidSubject) {
			t.Errorf("user_id %q: %v, want invalid subject", bad, err)
		}
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUIDString(s string) bool { return uuidPattern.MatchString(s) }
