package auth0export_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/auth0export"
)

const bcryptHash = "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"

func TestReadUnderstandsTheShapesAuth0ExportsIn(t *testing.T) {
	cases := []struct {
		name string
		line string
		want auth0export.Record
	}{
		{"users-export job",
			`{"user_id":"auth0|64f0a1","email":"ann@example.com","email_verified":true,"name":"Ann Lee","created_at":"2024-03-01T10:00:00.000Z"}`,
			auth0export.Record{UserID: "auth0|64f0a1", Email: "ann@example.com", EmailVerified: true, Name: "Ann Lee",
				CreatedAt: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}},
		{"password hash export",
			`{"_id":{"$oid":"64f0a1"},"email":"ann@example.com","email_verified":false,"passwordHash":"` + bcryptHash + `","password_set_date":{"$date":"2024-03-01T10:00:00.000Z"}}`,
			auth0export.Record{UserID: "auth0|64f0a1", Email: "ann@example.com", PasswordHash: bcryptHash}},
		{"bulk-import schema with an SMS factor",
			`{"email":"bob@example.com","email_verified":"true","given_name":"Bob","family_name":"Roe","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"` + bcryptHash + `"}},"mfa_factors":[{"phone":{"value":"+447911123456"}},{"totp":{"secret":"x"}}]}`,
			auth0export.Record{Email: "bob@example.com", EmailVerified: true, Name: "Bob Roe", PasswordHash: bcryptHash, Phones: []string{"+447911123456"}}},
		{"authentication methods, unconfirmed one left out",
			`{"email":"cy@example.com","name":"cy@example.com","nickname":"cy","authentication_methods":[{"type":"phone","phone_number":"+14155550123","confirmed":true},{"type":"phone","phone_number":"+14155550999","confirmed":false},{"type":"email"}],"enrollments":[{"type":"sms","phone_number":"+14155550123","status":"confirmed"}]}`,
			auth0export.Record{Email: "cy@example.com", Name: "cy", Phones: []string{"+14155550123"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []auth0export.Record
			err := auth0export.Read(strings.NewReader(tc.line+"\n"), func(r auth0export.Record, err error) error {
				if err != nil {
					t.Fatalf("line refused: %v", err)
				}
				got = append(got, r)
				return nil
			})
			if err != nil || len(got) != 1 {
				t.Fatalf("Read: %v, %d records", err, len(got))
			}
			tc.want.Line = 1
			g := got[0]
			if g.UserID != tc.want.UserID || g.Email != tc.want.Email || g.EmailVerified != tc.want.EmailVerified ||
				g.Name != tc.want.Name || g.PasswordHash != tc.want.PasswordHash || !slices.Equal(g.Phones, tc.want.Phones) ||
				!g.CreatedAt.Equal(tc.want.CreatedAt) || g.Line != 1 {
				t.Errorf("got %+v\nwant %+v", g, tc.want)
			}
		})
	}
}

func TestReadReportsEachBadLineAndGoesOn(t *testing.T) {
	export := strings.Join([]string{
		`{"email":"ann@example.com"}`,
		`not json`,
		``,
		`{"name":"No Email"}`,
		`{"email":"md5@example.com","custom_password_hash":{"algorithm":"md5","hash":{"value":"5f4d"}}}`,
		`{"email":"when@example.com","created_at":"yesterday"}`,
		`{"email":"bob@example.com","email_verified":"maybe"}`,
		`{"email":"cy@example.com"}`,
		`{"email":"meta@example.com","app_metadata":["admin"]}`,
	}, "\n")
	var good []string
	problems := map[int]string{}
	err := auth0export.Read(strings.NewReader(export), func(r auth0export.Record, err error) error {
		if err != nil {
			problems[r.Line] = err.Error()
			return nil
		}
		good = append(good, r.Email)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(good, []string{"ann@example.com", "cy@example.com"}) {
		t.Errorf("good lines: %v", good)
	}
	want := map[int]string{2: "line 2: not a JSON object", 4: "line 4: no email", 5: `algorithm "md5" cannot be verified`,
		6: "line 6: created_at", 7: "line 7: email_verified", 9: "line 9: app_metadata: [\"admin\"] is not a JSON object"}
	for n, w := range want {
		if !strings.Contains(problems[n], w) {
			t.Errorf("line %d: %q, want it to say %q", n, problems[n], w)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("problems: %v", problems)
	}
}

// Metadata comes through as exported, for the import to check; null is none.
func TestReadKeepsMetadata(t *testing.T) {
	line := `{"user_id":"auth0|1","email":"ann@example.com","user_metadata":{"theme":"dark"},"app_metadata":null}`
	err := auth0export.Read(strings.NewReader(line), func(r auth0export.Record, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if string(r.UserMetadata) != `{"theme":"dark"}` || r.AppMetadata != nil {
			t.Errorf("user_metadata %s, app_metadata %s", r.UserMetadata, r.AppMetadata)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadStopsWhenTheCallerDoes(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := auth0export.Read(strings.NewReader("{\"email\":\"a@example.com\"}\n{\"email\":\"b@example.com\"}\n"), func(auth0export.Record, error) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}
