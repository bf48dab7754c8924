package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestPolicySetAndShow(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": storetest.NewDatabase(t)}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "policy", "show"); r.code != 0 || r.stdout != "never\n" {
		t.Fatalf("default policy: %d %q", r.code, r.stdout)
	}
	if r := gatehouse(ctx, vars, "", "policy", "set", "always"); r.code != 0 || r.stdout != "MFA policy: always\n" {
		t.Fatalf("set always: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := gatehouse(ctx, vars, "", "policy", "show"); r.stdout != "always\n" {
		t.Fatalf("after set: %q", r.stdout)
	}
	if r := gatehouse(ctx, vars, "", "policy", "set", "sometimes"); r.code != 1 || !strings.Contains(r.stderr, `unknown MFA policy "sometimes": use never or always`) {
		t.Fatalf("bad policy: %d %q", r.code, r.stderr)
	}
}
