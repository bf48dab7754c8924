package account

import (
	"errors"
	"testing"
)

func TestImportedSubjectsKeepTheShapesOfIDsAndMachinesFree(t *testing.T) {
	for _, c := range []struct {
		name, subject string
		ok            bool
	}{
		{"an Auth0 database user", "auth0|60d5f0c2a1b2c3d4e5f60718", true},
		{"a social connection's user", "google-oauth2|103547991597142817347", true},
		{"a UUID, which could be another user's id", "09859206-8c71-4d85-bde4-decafb10e8de", false},
		{"a UUID in capitals", "09859206-8C71-4D85-BDE4-DECAFB10E8DE", false},
		{"a machine token's subject", "spa-client@clients", false},
		{"an email address", "ann@example.com", true},
		{"a space", "auth0|a b", false},
		{"nothing", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkImportedSubject(c.subject)
			if c.ok && err != nil {
				t.Fatalf("%q refused: %v", c.subject, err)
			}
			if !c.ok && !errors.Is(err, ErrInvalidSubject) {
				t.Fatalf("%q: %v, want ErrInvalidSubject", c.subject, err)
			}
		})
	}
}
