package templates_test

import (
	"bytes"
	"html/template"
	"io/fs"
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/templates"
)

type testUser struct {
	Email string
	Name  string
}

// pageData mirrors the fields the server passes to every page, plus the
// page-specific ones.
type pageData struct {
	Title     string
	AppName   string
	Screen    string
	Base      string
	Error     string
	Notice    string
	RequestID string
	User      *testUser

	ReturnTo    string
	Email       string
	Name        string
	MinLength   int
	MaxLength   int
	MemberSince string
	Message     string
}

func render(t *testing.T, page string, d pageData) string {
	t.Helper()
	tmpl, err := template.ParseFS(templates.FS, "layout.html", "pages/"+page+".html")
	if err != nil {
		t.Fatalf("parse %s: %v", page, err)
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", d); err != nil {
		t.Fatalf("execute %s: %v", page, err)
	}
	return buf.String()
}

func TestPages(t *testing.T) {
	tests := []struct {
		page     string
		signedIn bool
		inputs   []string
		contains []string
	}{
		{
			page:   "login",
			inputs: []string{"return_to", "email", "password"},
			contains: []string{
				`action="/auth/login"`,
				`autocomplete="current-password"`,
				`href="/auth/signup?return_to=%2fauthorize%3fclient_id%3dabc%26state%3dx%20y"`,
				"Log in", "Continue", "to continue to Acme",
			},
		},
		{
			page:   "signup",
			inputs: []string{"return_to", "email", "name", "password"},
			contains: []string{
				`action="/auth/signup"`,
				`autocomplete="new-password"`,
				`minlength="12"`, `maxlength="128"`,
				`aria-describedby="password-hint"`, `id="password-hint"`,
				"At least 12 characters.",
				"Create your account", "(optional)",
			},
		},
		{
			page:     "account",
			signedIn: true,
			inputs:   []string{"current_password", "new_password"},
			contains: []string{
				`action="/auth/account/password"`,
				`action="/auth/logout"`,
				"Your account", "ada@example.com", "Ada Lovelace",
				"Member since", "March 4, 2024", "Change password", "Log out",
			},
		},
		{
			page:     "logout",
			signedIn: true,
			contains: []string{
				`action="/auth/logout"`, `href="/auth/account"`,
				"Log out?", "signed out of Acme on this browser",
			},
		},
		{
			page: "error",
			contains: []string{
				"Something went wrong", "The request could not be completed.",
				"Reference: <code>req-123</code>", `href="/auth/login"`,
			},
		},
	}

	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			d := pageData{
				Title:       "Something went wrong",
				AppName:     "Acme",
				Screen:      tc.page,
				Base:        "/auth/",
				RequestID:   "req-123",
				ReturnTo:    "/authorize?client_id=abc&state=x y",
				Email:       "ada@example.com",
				Name:        "Ada",
				MinLength:   12,
				MaxLength:   128,
				MemberSince: "March 4, 2024",
				Message:     "The request could not be completed.",
			}
			if tc.signedIn {
				d.User = &testUser{Email: "ada@example.com", Name: "Ada Lovelace"}
			}

			out := render(t, tc.page, d)
			mustContain := append([]string{
				`<!doctype html>`,
				`<html lang="en">`,
				`<meta charset="utf-8">`,
				`name="viewport"`,
				`<title>Something went wrong · Acme</title>`,
				`<link rel="stylesheet" href="/auth/static/style.css">`,
				`data-screen="` + tc.page + `"`,
			}, tc.contains...)
			for _, name := range tc.inputs {
				mustContain = append(mustContain, `name="`+name+`"`)
			}
			for _, s := range mustContain {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q", s)
				}
			}
			checkCSPSafe(t, out)
			checkForms(t, out)
			if strings.Contains(out, `role="alert"`) || strings.Contains(out, `role="status"`) {
				t.Errorf("alert rendered without Error/Notice")
			}

			d.Error = "Wrong email or password <script>"
			d.Notice = "Password changed."
			out = render(t, tc.page, d)
			for _, s := range []string{
				`<div role="alert" class="alert alert-error">Wrong email or password &lt;script&gt;</div>`,
				`<div role="status" class="alert alert-notice">Password changed.</div>`,
			} {
				if !strings.Contains(out, s) {
					t.Errorf("output with Error/Notice lacks %q", s)
				}
			}
			checkCSPSafe(t, out)
		})
	}
}

// TestLoginWithoutReturnTo checks optional parts disappear and Base "/" works.
func TestLoginWithoutReturnTo(t *testing.T) {
	out := render(t, "login", pageData{Title: "Log in", AppName: "Gatehouse", Screen: "login", Base: "/"})
	for _, s := range []string{`action="/login"`, `href="/signup"`, `href="/static/style.css"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(out, "return_to") {
		t.Errorf("return_to rendered although empty")
	}
}

// TestAccountWithoutName checks the placeholder for a missing name.
func TestAccountWithoutName(t *testing.T) {
	out := render(t, "account", pageData{
		Title: "Your account", AppName: "Gatehouse", Screen: "account", Base: "/",
		User: &testUser{Email: "x@example.com"}, MemberSince: "today", MinLength: 8, MaxLength: 64,
	})
	if !strings.Contains(out, "<dd>—</dd>") {
		t.Errorf("missing name placeholder")
	}
}

func TestErrorWithoutRequestID(t *testing.T) {
	out := render(t, "error", pageData{Title: "Not found", AppName: "Gatehouse", Screen: "error", Base: "/", Message: "No such page."})
	if strings.Contains(out, "Reference:") {
		t.Errorf("reference line rendered without RequestID")
	}
}

func checkCSPSafe(t *testing.T, out string) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", " style=", "<style", "javascript:", "http://", "https://", "<img"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains forbidden %q", bad)
		}
	}
}

// checkForms requires every form to POST to a path under Base.
func checkForms(t *testing.T, out string) {
	t.Helper()
	for _, part := range strings.Split(out, "<form")[1:] {
		tag, _, _ := strings.Cut(part, ">")
		if !strings.Contains(tag, `method="post"`) || !strings.Contains(tag, `action="/auth/`) {
			t.Errorf("form is not a POST to Base: <form%s>", tag)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	css, err := fs.ReadFile(templates.FS, "static/style.css")
	if err != nil {
		t.Fatalf("static/style.css not embedded: %v", err)
	}
	for _, s := range []string{"prefers-color-scheme: dark", "prefers-reduced-motion", ":focus-visible", "--primary"} {
		if !bytes.Contains(css, []byte(s)) {
			t.Errorf("style.css lacks %q", s)
		}
	}
	for _, bad := range []string{"@import", "url(http", "url(//"} {
		if bytes.Contains(css, []byte(bad)) {
			t.Errorf("style.css references external resource via %q", bad)
		}
	}
	pages, err := fs.Glob(templates.FS, "pages/*.html")
	if err != nil || len(pages) != 5 {
		t.Errorf("pages = %v, %v; want 5 pages", pages, err)
	}
}
