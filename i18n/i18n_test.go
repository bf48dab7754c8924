package i18n_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/gatehouse-id/gatehouse/i18n"
	"github.com/gatehouse-id/gatehouse/mfa/sms"
	"github.com/gatehouse-id/gatehouse/settings"
)

func load(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(i18n.Strict())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTheShippedLanguagesAreTheOnesSettingsOffer(t *testing.T) {
	c := load(t)
	var got []string
	for _, tag := range c.Languages() {
		got = append(got, tag.String())
	}
	if !slices.Equal(got, settings.Languages) {
		t.Fatalf("catalogues %v, settings offer %v", got, settings.Languages)
	}
}

func TestEveryCatalogueHasExactlyEnglishsKeys(t *testing.T) {
	c := load(t)
	english := c.Keys(i18n.English)
	for _, tag := range c.Languages()[1:] {
		t.Run(tag.String(), func(t *testing.T) {
			keys := c.Keys(tag)
			for _, k := range english {
				if _, ok := slices.BinarySearch(keys, k); !ok {
					t.Errorf("lacks %q", k)
				}
			}
			for _, k := range keys {
				if _, ok := slices.BinarySearch(english, k); !ok {
					t.Errorf("has %q, which English has not", k)
				}
			}
		})
	}
}

// keyUse finds a message key written as a string literal in Go or as the
// first argument of t in a template.
var keyUse = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

func TestEveryKeyIsUsedByATemplateOrTheCode(t *testing.T) {
	used := map[string]bool{}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "var", ".git", "locales", "e2e":
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if (ext != ".go" && ext != ".html" && ext != ".txt") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range load(t).Keys(i18n.English) {
		if !used[k] {
			t.Errorf("%q is in the catalogues but no template or code uses it", k)
		}
	}
}

func TestEveryPluralFormTheLanguageNeedsIsWritten(t *testing.T) {
	c := load(t)
	for _, tag := range c.Languages() {
		raw, err := os.ReadFile(filepath.Join("locales", tag.String()+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var messages map[string]any
		if err := json.Unmarshal(raw, &messages); err != nil {
			t.Fatal(err)
		}
		loc := c.Localizer(tag)
		for k, v := range messages {
			if _, plural := v.(map[string]any); !plural {
				continue
			}
			// In strict mode a count whose plural form is not written
			// renders as missing instead of falling back.
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 99, 100, 101, 102, 1000000} {
				if got := loc.T(k, "Count", n); strings.Contains(got, "[missing:") || strings.Contains(got, "<no value>") {
					t.Errorf("%s %q with Count %d: %q", tag, k, n, got)
				}
			}
		}
	}
}

func TestLanguageIsChosenInTheDocumentedOrder(t *testing.T) {
	c := load(t)
	all := i18n.Tenant{}
	tests := []struct {
		name   string
		prefs  i18n.Preferences
		tenant i18n.Tenant
		want   string
	}{
		{"nothing known: English", i18n.Preferences{}, all, "en"},
		{"nothing known: the tenant's default", i18n.Preferences{}, i18n.Tenant{Default: "de"}, "de"},
		{"Accept-Language over the default", i18n.Preferences{AcceptLanguage: "es-MX,es;q=0.9,en;q=0.5"}, i18n.Tenant{Default: "de"}, "es"},
		{"the user's choice over Accept-Language", i18n.Preferences{UserChoice: "hi", AcceptLanguage: "es"}, all, "hi"},
		{"ui_locales over the user's choice", i18n.Preferences{UILocales: "fr", UserChoice: "hi", AcceptLanguage: "es"}, all, "fr"},
		{"ui_locales: the first language spoken", i18n.Preferences{UILocales: "ja fr-CA de"}, all, "fr"},
		{"a region finds its language", i18n.Preferences{AcceptLanguage: "pt"}, all, "pt-BR"},
		{"Arabic of any region", i18n.Preferences{UILocales: "ar-EG"}, all, "ar"},
		{"an unknown language falls through", i18n.Preferences{UILocales: "ja", AcceptLanguage: "de"}, all, "de"},
		{"malformed tags fall through", i18n.Preferences{UILocales: "x!y", UserChoice: "12345678901234567890", AcceptLanguage: ";;;"}, all, "en"},
		{"a disabled language is not spoken", i18n.Preferences{UILocales: "fr"}, i18n.Tenant{Default: "es", Enabled: []string{"es", "de"}}, "es"},
		{"an enabled one is", i18n.Preferences{UILocales: "fr de"}, i18n.Tenant{Default: "es", Enabled: []string{"es", "de"}}, "de"},
		{"a default outside the enabled list yields to the first enabled", i18n.Preferences{}, i18n.Tenant{Default: "fr", Enabled: []string{"de"}}, "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Choose(tt.prefs, tt.tenant); got.String() != tt.want {
				t.Fatalf("chose %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRightToLeftLanguagesSayRTL(t *testing.T) {
	c := load(t)
	for _, tt := range []struct{ tag, dir string }{{"ar", "rtl"}, {"en", "ltr"}, {"hi", "ltr"}, {"fr", "ltr"}} {
		if got := c.Localizer(language.MustParse(tt.tag)).Dir(); got != tt.dir {
			t.Errorf("%s: dir %q, want %q", tt.tag, got, tt.dir)
		}
	}
}

func TestPluralsFollowEachLanguagesRules(t *testing.T) {
	c := load(t)
	tests := []struct {
		tag   string
		count int
		want  string
	}{
		{"en", 1, "1 attempt left"},
		{"en", 2, "2 attempts left"},
		{"fr", 0, "0 essai restant"},
		{"fr", 2, "2 essais restants"},
		{"de", 1, "1 Versuch übrig"},
		{"ar", 2, "بقيت محاولتان"},
		{"ar", 3, "بقيت 3 محاولات"},
		{"ar", 11, "بقيت 11 محاولة"},
	}
	for _, tt := range tests {
		if got := c.Localizer(language.MustParse(tt.tag)).T("code.attempts_left", "Count", tt.count); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.tag, tt.count, got, tt.want)
		}
	}
}

// A second SMS part doubles the bill: every language's code message, with
// a typical application name and the WebOTP line, is sent as one part.
// Hindi and Arabic need UCS-2 (70 characters a part); the others stay in
// GSM-7 (160).
func TestTheCodeTextIsOneSMSInEveryLanguage(t *testing.T) {
	c := load(t)
	const webOTP = "\n\n@login.example.com #123456"
	for _, tag := range c.Languages() {
		t.Run(tag.String(), func(t *testing.T) {
			for _, app := range []string{"", "Gatehouse", "Acme Bank"} {
				text := c.SMSWording(i18n.NewContext(context.Background(), tag), app, "123456") + webOTP
				n, enc := sms.Segments(text)
				wantEnc := sms.GSM7
				if tag.String() == "hi" || tag.String() == "ar" {
					wantEnc = sms.UCS2
				}
				if n != 1 || enc != wantEnc {
					t.Errorf("app %q: %d parts in %s, want 1 in %s: %q", app, n, enc, wantEnc, text)
				}
				if !strings.Contains(text, "123456") {
					t.Errorf("app %q: the code is missing: %q", app, text)
				}
			}
		})
	}
}
