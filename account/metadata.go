package account

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Metadata is what Auth0 keeps on a user besides the profile: user_metadata
// (what the user may see and change, such as preferences) and app_metadata
// (what the apps decide, such as a plan or roles). Each is one JSON object,
// kept as compact JSON.

// Metadata fields, as the Management API names them.
const (
	UserMetadata = "user_metadata"
	AppMetadata  = "app_metadata"
)

// EventMetadataChanged records a change of a user's metadata; details name
// the field, the top-level keys changed and who changed them, never the values.
const EventMetadataChanged = "user.metadata_changed"

// MaxMetadataSize bounds each of a user's metadata objects, as compact JSON.
// A token that carries metadata in a claim stays well below the size proxies
// and browsers accept in headers and cookies.
const MaxMetadataSize = 16 << 10

// maxMetadataDepth bounds nesting: metadata is settings and flags, and a
// deep structure is more likely an attack on whoever reads it.
const maxMetadataDepth = 10

// MetadataError says what is wrong with a metadata value, naming the field.
type MetadataError struct {
	Field  string
	Reason string
}

func (e *MetadataError) Error() string { return e.Field + " " + e.Reason }

// EmptyMetadata is the metadata of a user who has none.
var EmptyMetadata = json.RawMessage(`{}`)

// ParseMetadata checks that raw is a JSON object within the limits, with
// keys that can be named in a path (no ".", not starting with "$", as Auth0
// requires), and returns it compact. Empty input is the empty object.
func ParseMetadata(field string, raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return EmptyMetadata, nil
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, &MetadataError{field, "must be a JSON object, such as {\"plan\": \"pro\"}"}
	}
	return encodeMetadata(field, obj)
}

func encodeMetadata(field string, obj map[string]any) (json.RawMessage, error) {
	if err := checkKeys(field, obj, 1); err != nil {
		return nil, err
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, &MetadataError{field, "cannot be stored: " + err.Error()}
	}
	if len(out) > MaxMetadataSize {
		return nil, &MetadataError{field, fmt.Sprintf("is %d bytes; at most %d (16 KiB) are kept", len(out), MaxMetadataSize)}
	}
	return out, nil
}

func checkKeys(path string, v any, depth int) error {
	if depth > maxMetadataDepth {
		return &MetadataError{path, fmt.Sprintf("nests deeper than %d levels", maxMetadataDepth)}
	}
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if k == "" || strings.Contains(k, ".") || strings.HasPrefix(k, "$") {
				return &MetadataError{path, fmt.Sprintf("has the key %q: keys must not be empty, contain \".\" or start with \"$\"", shortKey(k))}
			}
			if err := checkKeys(path+"."+k, child, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, child := range v {
			if err := checkKeys(path, child, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func shortKey(k string) string {
	if len(k) > 40 {
		return k[:40] + "…"
	}
	return k
}

// MergeMetadata applies patch to current as Auth0's PATCH /api/v2/users
// does: top-level keys of patch replace those of current (nested objects are
// replaced whole, not merged), a key set to null is removed, and an empty
// object clears everything.
func MergeMetadata(field string, current json.RawMessage, patch []byte) (json.RawMessage, error) {
	p, err := ParseMetadataPatch(field, patch)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(current))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		obj = map[string]any{}
	}
	if len(p) == 0 {
		obj = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(obj, k)
			continue
		}
		obj[k] = v
	}
	return encodeMetadata(field, obj)
}

// ParseMetadataPatch reads a patch: a JSON object whose top-level values
// may be null (remove the key). Its other values follow ParseMetadata's rules.
func ParseMetadataPatch(field string, patch []byte) (map[string]any, error) {
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(patch)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || p == nil || dec.More() {
		return nil, &MetadataError{field, "must be a JSON object, such as {\"plan\": \"pro\"}"}
	}
	if err := checkKeys(field, p, 1); err != nil {
		return nil, err
	}
	return p, nil
}

// changedKeys lists the top-level keys whose values differ between a and b.
// The values are compared decoded: the database writes JSON its own way.
func changedKeys(a, b json.RawMessage) []string {
	var ma, mb map[string]any
	json.Unmarshal(a, &ma)
	json.Unmarshal(b, &mb)
	var out []string
	for k, v := range ma {
		if w, ok := mb[k]; !ok || !reflect.DeepEqual(v, w) {
			out = append(out, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// MetadataStore keeps users' metadata. UpdateMetadata runs change on the
// user's current metadata with the user's row locked, so two changes at once
// both apply, and stores what it returns unless it returns an error.
type MetadataStore interface {
	UpdateMetadata(ctx context.Context, id string, change func(user, app json.RawMessage) (json.RawMessage, json.RawMessage, error)) (User, error)
}

// MetadataChange is a change of a user's metadata. Replace sets a field to
// the object given (the console's and the admin API's edit); Merge patches
// it as Auth0's Management API does (see MergeMetadata). Nil leaves a field
// as it is.
type MetadataChange struct {
	ReplaceUser, ReplaceApp []byte
	MergeUser, MergeApp     []byte
}

// ChangeMetadata applies c to the user's metadata, audits what changed and
// returns the user as stored. Invalid metadata answers a *MetadataError and
// changes nothing.
func (s *Service) ChangeMetadata(ctx context.Context, userID string, c MetadataChange, by Actor, m Meta) (User, error) {
	if s.metadata == nil {
		return User{}, fmt.Errorf("change metadata: no metadata storage")
	}
	var userKeys, appKeys []string
	u, err := s.metadata.UpdateMetadata(ctx, userID, func(user, app json.RawMessage) (json.RawMessage, json.RawMessage, error) {
		newUser, err := applyMetadata(UserMetadata, user, c.ReplaceUser, c.MergeUser)
		if err != nil {
			return nil, nil, err
		}
		newApp, err := applyMetadata(AppMetadata, app, c.ReplaceApp, c.MergeApp)
		if err != nil {
			return nil, nil, err
		}
		userKeys, appKeys = changedKeys(user, newUser), changedKeys(app, newApp)
		return newUser, newApp, nil
	})
	if err != nil {
		return User{}, fmt.Errorf("change metadata: %w", err)
	}
	for _, f := range []struct {
		name string
		keys []string
	}{{UserMetadata, userKeys}, {AppMetadata, appKeys}} {
		if len(f.keys) > 0 {
			s.record(ctx, Event{Type: EventMetadataChanged, UserID: u.ID, Subject: u.Email,
				Details: map[string]any{"by": by.Name, "field": f.name, "keys": f.keys}}, m)
		}
	}
	return u, nil
}

func applyMetadata(field string, current json.RawMessage, replace, merge []byte) (json.RawMessage, error) {
	out := current
	if replace != nil {
		var err error
		if out, err = ParseMetadata(field, replace); err != nil {
			return nil, err
		}
	}
	if merge != nil {
		var err error
		if out, err = MergeMetadata(field, out, merge); err != nil {
			return nil, err
		}
	}
	return out, nil
}
