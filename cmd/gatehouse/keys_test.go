package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestKeysRotateAndList(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "GATEHOUSE_SECRET_KEY": testKey}

	var kids []string
	for range 2 {
		r := gatehouse(ctx, vars, "", "keys", "rotate")
		kid := strings.TrimSpace(r.stdout)
		if r.code != 0 || len(kid) != 22 {
			t.Fatalf("rotate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		kids = append(kids, kid)
	}
	if kids[0] == kids[1] {
		t.Fatalf("two rotations printed the same kid %s", kids[0])
	}

	r := gatehouse(ctx, map[string]string{"DATABASE_URL": vars["DATABASE_URL"]}, "", "keys", "list")
	if r.code != 0 {
		t.Fatalf("list: exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"KID", "STATE", "CREATED", "ACTIVATED", "RETIRED"}) {
		t.Fatalf("list header %q", lines[0])
	}
	byState := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 5 {
			t.Fatalf("list row %q, want 5 columns", l)
		}
		byState[f[1]] = append(byState[f[1]], f[0])
	}
	// Init made two keys and each rotation one more: the first key and the
	// one the first rotation activated are retired.
	if !slices.Equal(byState["current"], kids[1:]) || len(byState["next"]) != 1 ||
		len(byState["retired"]) != 2 || !slices.Contains(byState["retired"], kids[0]) {
		t.Fatalf("list:\n%s\nwant %s current, one next, two retired including %s", r.stdout, kids[1], kids[0])
	}
}

func TestKeysRotateRefusesAnotherSecretKey(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t), "GATEHOUSE_SECRET_KEY": testKey}
	if r := gatehouse(ctx, vars, "", "keys", "rotate"); r.code != 0 {
		t.Fatalf("rotate: exit %d, stderr %q", r.code, r.stderr)
	}
	vars["GATEHOUSE_SECRET_KEY"] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=" // 32 other bytes
	r := gatehouse(ctx, vars, "", "keys", "rotate")
	if r.code != 1 || !strings.Contains(r.stderr, "is GATEHOUSE_SECRET_KEY the one they were made with?") {
		t.Fatalf("rotate under another key: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestKeysRotateNeedsTheSecretKey(t *testing.T) {
	r := gatehouse(context.Background(), map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db"}, "", "keys", "rotate")
	if r.code != 2 || !strings.Contains(r.stderr, "GATEHOUSE_SECRET_KEY is not set; set it to 32 random bytes in base64") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 2 and one line naming GATEHOUSE_SECRET_KEY", r.code, r.stderr)
	}
}

func TestKeysCommandLine(t *testing.T) {
	for _, args := range [][]string{{"keys", "--help"}, {"keys", "rotate", "--help"}, {"keys", "list", "--help"}} {
		r := gatehouse(context.Background(), nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stderr, "Usage: gatehouse keys") {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"keys"}, "Usage: gatehouse keys"},
		{[]string{"keys", "delete"}, `unknown subcommand "delete"`},
		{[]string{"keys", "list", "extra"}, `unexpected argument "extra"`},
	} {
		r := gatehouse(context.Background(), nil, "", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Fatalf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
