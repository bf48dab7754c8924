package store_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/branding"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ branding.Store = (*store.Store)(nil)

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBrandingRoundTripKeepsTextAndLogoApart(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Branding(ctxB, "web-app"); !errors.Is(err, branding.ErrNotFound) {
		t.Fatalf("brand before any was saved: err %v, want ErrNotFound", err)
	}
	want := branding.Brand{ClientID: "web-app", Name: "Acme", LogoURL: "https://cdn.example.com/acme.png",
		Primary: "#1d4ed8", Background: "#f8fafc", UpdatedAt: t0}
	if err := st.SaveBranding(ctxB, want); err != nil {
		t.Fatal(err)
	}
	got, err := st.Branding(ctxB, "web-app")
	if err != nil {
		t.Fatal(err)
	}
	got.UpdatedAt = got.UpdatedAt.UTC()
	if got != want {
		t.Fatalf("brand read back as %+v, want %+v", got, want)
	}

	data := tinyPNG(t)
	later := t0.Add(time.Minute)
	if err := st.SetLogo(ctxB, "web-app", branding.Image{Type: "image/png", Data: data}, "0123abcd", later); err != nil {
		t.Fatal(err)
	}
	got, err = st.Branding(ctxB, "web-app")
	if err != nil {
		t.Fatal(err)
	}
	if got.LogoURL != "" || got.LogoType != "image/png" || got.LogoSum != "0123abcd" || got.Name != "Acme" {
		t.Fatalf("after an upload the brand is %+v; want the link gone, the upload named, the name kept", got)
	}
	img, sum, err := st.Logo(ctxB, "web-app")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.Data, data) || img.Type != "image/png" || sum != "0123abcd" {
		t.Fatalf("logo read back as %s %s (%d bytes), want image/png 0123abcd (%d bytes)", img.Type, sum, len(img.Data), len(data))
	}

	// Saving the text keeps the upload.
	got.Name = "Acme Corp"
	if err := st.SaveBranding(ctxB, got); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Logo(ctxB, "web-app"); err != nil {
		t.Fatalf("the logo after a text save: %v", err)
	}
	// A link replaces the upload.
	got.LogoURL = "https://cdn.example.com/new.png"
	if err := st.SaveBranding(ctxB, got); err != nil {
		t.Fatal(err)
	}
	if b, err := st.Branding(ctxB, "web-app"); err != nil || b.LogoType != "" || b.LogoSum != "" {
		t.Fatalf("after a link was saved: %+v, %v; want the upload gone", b, err)
	}
	if err := st.DeleteLogo(ctxB, "web-app", later); !errors.Is(err, branding.ErrNotFound) {
		t.Fatalf("deleting a logo a link replaced: err %v, want ErrNotFound", err)
	}
	if err := st.SetLogo(ctxB, "web-app", branding.Image{Type: "image/png", Data: data}, "0123abcd", later); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteLogo(ctxB, "web-app", later); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteLogo(ctxB, "web-app", later); !errors.Is(err, branding.ErrNotFound) {
		t.Fatalf("deleting a logo twice: err %v, want ErrNotFound", err)
	}
	if _, _, err := st.Logo(ctxB, "web-app"); !errors.Is(err, branding.ErrNotFound) {
		t.Fatalf("logo after delete: err %v, want ErrNotFound", err)
	}
}

func TestBrandingGoesWithItsApplication(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	if err := st.SetLogo(ctxB, "web-app", branding.Image{Type: "image/png", Data: tinyPNG(t)}, "00", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteClient(ctxB, "web-app"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Branding(ctxB, "web-app"); !errors.Is(err, branding.ErrNotFound) {
		t.Fatalf("brand of a deleted application: err %v, want ErrNotFound", err)
	}
}

func TestBrandingOfAnUnknownApplicationIsRefused(t *testing.T) {
	st := storetest.NewStore(t)
	err := st.SaveBranding(ctxB, branding.Brand{ClientID: "nobody", Name: "X", UpdatedAt: t0})
	if err == nil {
		t.Fatal("a brand for an application that does not exist was stored")
	}
}

func TestTheSchemaRefusesWhatTheRulesRefuse(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]branding.Brand{
		"a colour not in #rrggbb": {Primary: "red"},
		"a logo link over http":   {LogoURL: "http://cdn.example.com/a.png"},
	} {
		b.ClientID, b.UpdatedAt = "web-app", t0
		if err := st.SaveBranding(ctxB, b); err == nil {
			t.Errorf("%s was stored", name)
		}
	}
	if err := st.SetLogo(ctxB, "web-app", branding.Image{Type: "image/svg+xml", Data: []byte("<svg/>")}, "00", t0); err == nil {
		t.Error("an SVG logo was stored")
	}
}
