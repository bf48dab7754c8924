// Package auth0export reads the users of an Auth0 tenant as Auth0 exports
// them, one JSON object per line (ndjson), so that Gatehouse can import them.
// It understands the shapes those lines come in:
//
//   - a users-export job (POST /api/v2/jobs/users-exports, format "json"):
//     user_id, email, email_verified, name, given_name, family_name,
//     nickname, created_at, user_metadata, app_metadata;
//   - the password hash export Auth0 support provides: _id.$oid, email,
//     email_verified, passwordHash (bcrypt);
//   - Auth0's bulk-import schema, which many teams keep their users in:
//     custom_password_hash {algorithm: "bcrypt", hash: {value}}, and
//     mfa_factors [{phone: {value}}];
//   - MFA enrollments as the Management API lists them (authentication
//     methods, or enrollments): type "phone" or "sms" with phone_number,
//     confirmed.
//
// A line may combine them: join the export and the hash file by email first.
// The package knows nothing of Gatehouse's storage; it turns lines into
// Records and says what is wrong with a line in words an operator can act on.
package auth0export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Record is one user from the export.
type Record struct {
	Line          int
	UserID        string // Auth0's user_id, e.g. "auth0|64f0…"
	Email         string
	EmailVerified bool
	Name          string
	PasswordHash  string    // bcrypt, or "" when the line has none
	Phones        []string  // verified phone numbers from MFA enrollments, as exported (E.164)
	CreatedAt     time.Time // zero when absent
	// UserMetadata and AppMetadata are the JSON objects as exported; nil
	// when absent or null.
	UserMetadata, AppMetadata json.RawMessage
}

// maxLine bounds one line: a user with large metadata is a few KiB.
const maxLine = 1 << 20

// line is the union of the shapes a line comes in.
type line struct {
	UserID string `json:"user_id"`
	OID    *struct {
		OID string `json:"$oid"`
	} `json:"_id"`
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
	GivenName     string          `json:"given_name"`
	FamilyName    string          `json:"family_name"`
	Nickname      string          `json:"nickname"`
	CreatedAt     json.RawMessage `json:"created_at"`
	UserMetadata  json.RawMessage `json:"user_metadata"`
	AppMetadata   json.RawMessage `json:"app_metadata"`

	PasswordHash       string `json:"passwordHash"`
	CustomPasswordHash *struct {
		Algorithm string `json:"algorithm"`
		Hash      struct {
			Value string `json:"value"`
		} `json:"hash"`
	} `json:"custom_password_hash"`

	MFAFactors []struct {
		Phone *struct {
			Value string `json:"value"`
		} `json:"phone"`
	} `json:"mfa_factors"`
	AuthenticationMethods []method `json:"authentication_methods"`
	Enrollments           []method `json:"enrollments"`
}

type method struct {
	Type        string `json:"type"`
	PhoneNumber string `json:"phone_number"`
	Confirmed   *bool  `json:"confirmed"`
	Status      string `json:"status"`
}

// Read calls fn for each non-blank line of r, in order, with the record or
// what is wrong with that line; a bad line does not stop the reading. Read
// returns the first error fn returns, or a reading error.
func Read(r io.Reader, fn func(Record, error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		rec, err := parse(text)
		rec.Line = n
		if err != nil {
			err = fmt.Errorf("line %d: %w", n, err)
		}
		if ferr := fn(rec, err); ferr != nil {
			return ferr
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d is longer than %d bytes", n+1, maxLine)
		}
		return fmt.Errorf("read the export after line %d: %w", n, err)
	}
	return nil
}

func parse(text string) (Record, error) {
	var l line
	if err := json.Unmarshal([]byte(text), &l); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %s", shorten(err.Error()))
	}
	rec := Record{UserID: l.UserID, Email: strings.TrimSpace(l.Email), Name: displayName(l)}
	if rec.UserID == "" && l.OID != nil {
		rec.UserID = "auth0|" + l.OID.OID
	}
	if rec.Email == "" {
		return rec, errors.New("no email: Gatehouse users log in with their email address")
	}
	verified, err := flexibleBool(l.EmailVerified)
	if err != nil {
		return rec, fmt.Errorf("email_verified: %w", err)
	}
	rec.EmailVerified = verified
	if rec.CreatedAt, err = flexibleTime(l.CreatedAt); err != nil {
		return rec, fmt.Errorf("created_at: %w", err)
	}
	if rec.UserMetadata, err = object(l.UserMetadata); err != nil {
		return rec, fmt.Errorf("user_metadata: %w", err)
	}
	if rec.AppMetadata, err = object(l.AppMetadata); err != nil {
		return rec, fmt.Errorf("app_metadata: %w", err)
	}
	switch {
	case l.PasswordHash != "":
		rec.PasswordHash = l.PasswordHash
	case l.CustomPasswordHash != nil:
		if alg := strings.ToLower(l.CustomPasswordHash.Algorithm); alg != "bcrypt" && alg != "argon2" {
			return rec, fmt.Errorf("custom_password_hash: algorithm %q cannot be verified by Gatehouse (bcrypt and argon2id can); import without it and let the user reset the password", l.CustomPasswordHash.Algorithm)
		}
		rec.PasswordHash = l.CustomPasswordHash.Hash.Value
	}
	for _, f := range l.MFAFactors {
		if f.Phone != nil && f.Phone.Value != "" {
			rec.Phones = appendNew(rec.Phones, f.Phone.Value)
		}
	}
	for _, m := range append(l.AuthenticationMethods, l.Enrollments...) {
		confirmed := (m.Confirmed == nil || *m.Confirmed) && (m.Status == "" || m.Status == "confirmed")
		if (m.Type == "phone" || m.Type == "sms") && m.PhoneNumber != "" && confirmed {
			rec.Phones = appendNew(rec.Phones, m.PhoneNumber)
		}
	}
	return rec, nil
}

func displayName(l line) string {
	if n := strings.TrimSpace(l.Name); n != "" && n != l.Email {
		return n
	}
	if n := strings.TrimSpace(l.GivenName + " " + l.FamilyName); n != "" {
		return n
	}
	return strings.TrimSpace(l.Nickname)
}

// flexibleBool reads true/false, and "true"/"false" as a CSV-born export has them.
func flexibleBool(raw json.RawMessage) (bool, error) {
	switch strings.Trim(strings.TrimSpace(string(raw)), `"`) {
	case "", "null", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%s is not true or false", shorten(string(raw)))
}

// flexibleTime reads an RFC 3339 string or a Mongo-style {"$date": "…"}.
func flexibleTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var d struct {
			Date string `json:"$date"`
		}
		if err := json.Unmarshal(raw, &d); err != nil || d.Date == "" {
			return time.Time{}, fmt.Errorf("%s is not a time", shorten(string(raw)))
		}
		s = d.Date
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", shorten(s))
	}
	return t, nil
}

// object passes a JSON object on, and reads null or absence as none.
func object(raw json.RawMessage) (json.RawMessage, error) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	if !strings.HasPrefix(trimmed, "{") {
		return nil, fmt.Errorf("%s is not a JSON object", shorten(trimmed))
	}
	return raw, nil
}

func appendNew(list []string, v string) []string {
	for _, have := range list {
		if have == v {
			return list
		}
	}
	return append(list, v)
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
