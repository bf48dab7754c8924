package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

func TestClientsBrandingSetsShowsAndRefuses(t *testing.T) {
	dbURL := storetest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL}
	ctx := context.Background()
	if r := gatehouse(ctx, vars, "", "clients", "create", "--name", "Acme SPA", "--type", "spa", "--client-id", "acme"); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %q", r.code, r.stderr)
	}
	r := gatehouse(ctx, vars, "", "clients", "branding", "acme", "--name", "Acme", "--primary-color", "#1D4ED8",
		"--logo-url", "https://cdn.acme.test/logo.png")
	if r.code != 0 || !strings.Contains(r.stdout, "name:             Acme\n") || !strings.Contains(r.stdout, "#1d4ed8") {
		t.Fatalf("set: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	dir := t.TempDir()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	logo, svg := filepath.Join(dir, "logo.png"), filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(logo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svg, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := gatehouse(ctx, vars, "", "clients", "branding", "acme", "--logo", logo); r.code != 0 || !strings.Contains(r.stdout, "uploaded image/png") {
		t.Fatalf("upload: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"a pale primary":        {[]string{"--primary-color", "#fde68a"}, "--primary-color has contrast"},
		"a colour name":         {[]string{"--background-color", "navy"}, "--background-color must be a colour in hex"},
		"a logo over http":      {[]string{"--logo-url", "http://cdn.acme.test/l.png"}, "--logo-url must be an https address"},
		"an SVG file":           {[]string{"--logo", svg}, "--logo is SVG or HTML"},
		"a file and a link":     {[]string{"--logo", logo, "--logo-url", "https://cdn.acme.test/l.png"}, "choose one"},
		"an upload and removal": {[]string{"--logo", logo, "--remove-logo"}, "choose one"},
	} {
		r := gatehouse(ctx, vars, "", append([]string{"clients", "branding", "acme"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want a refusal saying %q", name, r.code, r.stderr, c.want)
		}
	}
	if r := gatehouse(ctx, vars, "", "clients", "branding", "nobody"); r.code == 0 || !strings.Contains(r.stderr, `no client has the id "nobody"`) {
		t.Errorf("an unknown client: exit %d, stderr %q", r.code, r.stderr)
	}

	r = gatehouse(ctx, vars, "", "clients", "branding", "acme")
	if r.code != 0 || !strings.Contains(r.stdout, "uploaded image/png") || !strings.Contains(r.stdout, "background_color: (tenant default)") {
		t.Fatalf("show: exit %d, stdout %q", r.code, r.stdout)
	}
	st := openTestStore(t, dbURL)
	events, err := st.AuditEvents(ctx, store.AuditFilter{Type: "admin.client_branding_updated"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || !strings.Contains(events[0].Details, `"by": "cli:`) {
		t.Errorf("audit: %+v, want the change and the upload by the operator", events)
	}
}
