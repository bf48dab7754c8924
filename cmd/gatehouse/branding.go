package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/branding"
)

func runClientsBranding(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "clients branding ID [flags]",
		"Shows an application's branding on the hosted pages, or changes it. An empty\n"+
			"value (--primary-color '') returns a field to the tenant's default (the\n"+
			"branding_* settings). Colours are hex (#1d4ed8) and must reach 4.5:1 contrast\n"+
			"with the text on them. A logo is an https URL, or a PNG, JPEG or WebP file of\n"+
			"at most 100 KiB (SVG files are refused: they can carry script); each replaces\n"+
			"the other.",
		"DATABASE_URL")
	name := fs.String("name", "", "display `NAME` on the login pages")
	logoURL := fs.String("logo-url", "", "https `URL` of the logo")
	logoFile := fs.String("logo", "", "image `FILE` to upload as the logo")
	removeLogo := fs.Bool("remove-logo", false, "remove the uploaded logo")
	primary := fs.String("primary-color", "", "`COLOUR` of buttons and links, under white text")
	background := fs.String("background-color", "", "`COLOUR` of the page behind the card")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	id, st, err := argAndStore(ctx, e, fs, args, "client id", *databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	var ch branding.Change
	changing := false
	fs.Visit(func(f *flag.Flag) {
		dst := map[string]**string{"name": &ch.Name, "logo-url": &ch.LogoURL, "primary-color": &ch.Primary, "background-color": &ch.Background}[f.Name]
		src := map[string]*string{"name": name, "logo-url": logoURL, "primary-color": primary, "background-color": background}[f.Name]
		if dst != nil {
			*dst = src
			changing = true
		}
	})
	if *logoFile != "" && *logoURL != "" {
		return errors.New("--logo and --logo-url: choose one")
	}
	svc := branding.NewService(st, st, st, nil, nil)
	by, m := cliActor(), account.Meta{}
	var b branding.Brand
	if changing {
		if b, err = svc.Update(ctx, id, ch, by, m); err != nil {
			return explainBrandingError(err, id)
		}
	}
	switch {
	case *logoFile != "" && *removeLogo:
		return errors.New("--logo and --remove-logo: choose one")
	case *logoFile != "":
		data, err := os.ReadFile(*logoFile)
		if err != nil {
			return fmt.Errorf("--logo: %w", err)
		}
		if b, err = svc.SetLogo(ctx, id, data, "", by, m); err != nil {
			return explainBrandingError(err, id)
		}
	case *removeLogo:
		if b, err = svc.RemoveLogo(ctx, id, by, m); err != nil {
			return explainBrandingError(err, id)
		}
	case !changing:
		if b, err = svc.Get(ctx, id); err != nil {
			return explainBrandingError(err, id)
		}
	}
	show := func(v string) string {
		if v == "" {
			return "(tenant default)"
		}
		return v
	}
	logo := show(b.LogoURL)
	if b.LogoType != "" {
		logo = "uploaded " + b.LogoType
	}
	fmt.Fprintf(e.stdout, "name:             %s\nlogo:             %s\nprimary_color:    %s\nbackground_color: %s\n",
		show(b.Name), logo, show(b.Primary), show(b.Background))
	return nil
}

// explainBrandingError words the branding service's refusals for the
// command line.
func explainBrandingError(err error, id string) error {
	var ve *branding.ValidationError
	switch {
	case errors.As(err, &ve):
		return fmt.Errorf("--%s %s", map[string]string{"name": "name", "logo_url": "logo-url", "logo": "logo",
			"primary_color": "primary-color", "background_color": "background-color"}[ve.Field], ve.Problem)
	case errors.Is(err, branding.ErrNoApp):
		return fmt.Errorf("no client has the id %q", id)
	case errors.Is(err, branding.ErrBuiltIn):
		return fmt.Errorf("the client %q is built in: Gatehouse manages it", id)
	}
	return err
}
