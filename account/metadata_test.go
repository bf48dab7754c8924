package account_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/account"
)

// Patching metadata follows Auth0's Management API: top-level keys merge,
// nested objects are replaced whole, null removes a key, and an empty object
// clears everything.
func TestMergeMetadataFollowsAuth0(t *testing.T) {
	cases := []struct {
		name, current, patch, want string
	}{
		{"a new key is added", `{"a":1}`, `{"b":2}`, `{"a":1,"b":2}`},
		{"a key is replaced", `{"a":1}`, `{"a":"x"}`, `{"a":"x"}`},
		{"null removes a key", `{"a":1,"b":2}`, `{"a":null}`, `{"b":2}`},
		{"null of an absent key is nothing", `{"a":1}`, `{"z":null}`, `{"a":1}`},
		{"a nested object is replaced, not merged", `{"prefs":{"theme":"dark","lang":"en"}}`, `{"prefs":{"lang":"fr"}}`, `{"prefs":{"lang":"fr"}}`},
		{"an empty object clears everything", `{"a":1,"b":2}`, `{}`, `{}`},
		{"nested nulls are kept as values", `{}`, `{"a":{"b":null}}`, `{"a":{"b":null}}`},
		{"large integers keep their digits", `{}`, `{"id":12345678901234567890}`, `{"id":12345678901234567890}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := account.MergeMetadata(account.AppMetadata, json.RawMessage(tc.current), []byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMetadataIsAnObjectWithinLimits(t *testing.T) {
	nested := strings.Repeat(`{"a":`, 11) + "1" + strings.Repeat("}", 11)
	cases := []struct {
		name, value, words string
	}{
		{"an array", `[1]`, "must be a JSON object"},
		{"null", `null`, "must be a JSON object"},
		{"two objects", `{} {}`, "must be a JSON object"},
		{"not JSON", `{"a":`, "must be a JSON object"},
		{"a dotted key", `{"a.b":1}`, `"a.b"`},
		{"a $ key deep down", `{"a":[{"$gt":1}]}`, `"$gt"`},
		{"an empty key", `{"":1}`, `""`},
		{"too deep", nested, "deeper than 10"},
		{"too large", `{"a":"` + strings.Repeat("x", account.MaxMetadataSize) + `"}`, "at most 16384"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := account.ParseMetadata(account.UserMetadata, []byte(tc.value))
			var me *account.MetadataError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.words) || !strings.HasPrefix(me.Field, account.UserMetadata) {
				t.Fatalf("ParseMetadata(%.40s) = %v, want a MetadataError saying %q", tc.value, err, tc.words)
			}
		})
	}
	got, err := account.ParseMetadata(account.UserMetadata, []byte(" { \"a\" : [1, 2.5, \"x\"] } "))
	if err != nil || string(got) != `{"a":[1,2.5,"x"]}` {
		t.Errorf("a valid object: %s, %v", got, err)
	}
	if got, err := account.ParseMetadata(account.UserMetadata, nil); err != nil || !reflect.DeepEqual(got, account.EmptyMetadata) {
		t.Errorf("nothing: %s, %v; want {}", got, err)
	}
}
