package loadgen

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// htmlForm is what a browser would submit from one <form> of a page: its
// method, its action resolved against the page, the values of its hidden
// inputs, the name of its password input (if it has one) and of the input a
// person types their user name into, and its first named submit button.
type htmlForm struct {
	method   string
	action   *url.URL
	hidden   url.Values
	password string
	username string
	submit   [2]string // name, value of the first named submit button
}

// userFieldNames are the names login forms give the user name field, in the
// order they are preferred when a form has several text inputs: Gatehouse
// and Auth0 use email, Dex login, Keycloak username.
var userFieldNames = []string{"email", "username", "login", "user", "identifier"}

// parseForms returns the forms of an HTML page, with actions resolved
// against page.
func parseForms(body []byte, page *url.URL) ([]htmlForm, error) {
	z := html.NewTokenizer(bytes.NewReader(body))
	var forms []htmlForm
	var cur *htmlForm
	var texts []string // text-like inputs of the current form, in order
	finish := func() {
		if cur == nil {
			return
		}
		cur.username = pickUserField(texts)
		forms = append(forms, *cur)
		cur, texts = nil, nil
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			finish()
			if errors.Is(z.Err(), io.EOF) {
				return forms, nil
			}
			return forms, z.Err()
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "form" {
				finish()
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch string(name) {
			case "form":
				finish()
				action, err := page.Parse(attrs["action"])
				if err != nil {
					return nil, err
				}
				method := strings.ToUpper(attrs["method"])
				if method == "" {
					method = "GET"
				}
				cur = &htmlForm{method: method, action: action, hidden: url.Values{}}
			case "input":
				if cur == nil || attrs["name"] == "" {
					continue
				}
				switch strings.ToLower(attrs["type"]) {
				case "hidden":
					cur.hidden.Add(attrs["name"], attrs["value"])
				case "password":
					if cur.password == "" {
						cur.password = attrs["name"]
					}
				case "", "text", "email", "tel":
					texts = append(texts, attrs["name"])
				case "submit":
					if cur.submit[0] == "" {
						cur.submit = [2]string{attrs["name"], attrs["value"]}
					}
				}
			case "button":
				if cur != nil && attrs["name"] != "" && cur.submit[0] == "" && strings.ToLower(attrs["type"]) != "button" {
					cur.submit = [2]string{attrs["name"], attrs["value"]}
				}
			}
		}
	}
}

func pickUserField(texts []string) string {
	for _, want := range userFieldNames {
		for _, t := range texts {
			if strings.EqualFold(t, want) {
				return t
			}
		}
	}
	if len(texts) > 0 {
		return texts[0]
	}
	return ""
}

// values is the form's body with the given extra fields and its submit
// button.
func (f htmlForm) values(extra map[string]string) url.Values {
	v := url.Values{}
	for k, vs := range f.hidden {
		v[k] = append([]string(nil), vs...)
	}
	for k, x := range extra {
		v.Set(k, x)
	}
	if f.submit[0] != "" {
		v.Set(f.submit[0], f.submit[1])
	}
	return v
}
