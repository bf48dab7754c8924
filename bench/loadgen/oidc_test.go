package loadgen

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func TestPickFormFillsTheLoginFormOfEachProvider(t *testing.T) {
	page, err := url.Parse("http://127.0.0.1:5556/dex/auth/local/login?back=&state=abc")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, html             string
		action, user, password string
		hidden                 url.Values
	}{
		{"gatehouse: email, a hidden return_to, and a hidden passkey form after it", `
<form class="form" method="post" action="/login"><input type="hidden" name="return_to" value="/authorize/resume?tx=1">
<input id="email" name="email" type="email"><input id="password" name="password" type="password"><button type="submit">Continue</button></form>
<form method="post" action="/login/passkey" hidden><input type="hidden" name="ceremony" value=""><button type="submit">Sign in with a passkey</button></form>`,
			"http://127.0.0.1:5556/login", "email", "password", url.Values{"return_to": {"/authorize/resume?tx=1"}}},
		{"dex: login field, an empty action posts back to the page", `
<form method="post" action=""><input tabindex="1" required id="login" name="login" type="text" placeholder="email address" autofocus/>
<input tabindex="2" required id="password" name="password" type="password"/><button tabindex="3" id="submit-login" type="submit">Login</button></form>`,
			page.String(), "login", "password", url.Values{}},
		{"keycloak: username among other text inputs", `
<form id="kc-form-login" action="https://kc.example/realms/r/login-actions/authenticate?session_code=x" method="post">
<input id="search" name="q" type="text"><input id="username" name="username" type="text"><input id="password" name="password" type="password">
<input type="hidden" id="id-hidden-input" name="credentialId"/><input name="login" type="submit" value="Sign In"/></form>`,
			"https://kc.example/realms/r/login-actions/authenticate?session_code=x", "username", "password", url.Values{"credentialId": {""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forms, err := parseForms([]byte(tt.html), page)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := pickForm(forms)
			if !ok {
				t.Fatal("no form picked")
			}
			if f.action.String() != tt.action || f.username != tt.user || f.password != tt.password || f.method != "POST" {
				t.Errorf("picked action %s, user field %q, password field %q, method %s", f.action, f.username, f.password, f.method)
			}
			v := f.values(map[string]string{f.username: "a@example.com", f.password: "pw"})
			for k, want := range tt.hidden {
				if got := v[k]; len(got) != 1 || got[0] != want[0] {
					t.Errorf("hidden %s = %q, want %q", k, got, want)
				}
			}
			if v.Get(f.username) != "a@example.com" || v.Get(f.password) != "pw" {
				t.Errorf("body %v lacks the credentials", v)
			}
		})
	}
}

func TestPickFormSubmitsAnApprovalPageWithItsButton(t *testing.T) {
	page, err := url.Parse("http://127.0.0.1:5556/dex/approval?req=r1")
	if err != nil {
		t.Fatal(err)
	}
	forms, err := parseForms([]byte(`
<form method="post"><input type="hidden" name="req" value="r1"/><input type="hidden" name="approval" value="approve">
<button type="submit" class="dex-btn theme-btn--success"><span>Grant Access</span></button></form>
<form method="post"><input type="hidden" name="req" value="r1"/><input type="hidden" name="approval" value="rejected">
<button type="submit">Cancel</button></form>`), page)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := pickForm(forms)
	if !ok {
		t.Fatal("no form picked")
	}
	if v := f.values(nil); v.Get("approval") != "approve" || v.Get("req") != "r1" || f.action.String() != page.String() {
		t.Errorf("submits %v to %s, want the approval to the page", v, f.action)
	}
	if _, ok := pickForm(nil); ok {
		t.Error("a page without forms gave a form")
	}
}

func TestReadUsers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(good, []byte("# email,password\na@example.com,pw,with,commas\r\n\nb@example.com,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := ReadUsers(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Email != "a@example.com" || users[0].Password != "pw,with,commas" || users[1].Password != "x" {
		t.Errorf("ReadUsers = %+v", users)
	}
	for name, text := range map[string]string{"no password": "a@example.com\n", "empty password": "a@example.com,\n", "no users": "# nothing\n"} {
		p := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadUsers(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
