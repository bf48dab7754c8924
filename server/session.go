package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/assurance"
)

// cookieName is the session cookie's name. Over https it carries the __Host-
// prefix, which makes browsers insist on Secure, Path=/ and no Domain, so no
// subdomain can plant or read it.
func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-gatehouse_session"
	}
	return "gatehouse_session"
}

// sameSite is Lax over http, and None over https: an SPA's silent
// authentication loads /authorize in an iframe from another site, and a Lax
// cookie would not reach it. Cross-site form posts are refused by
// CrossOriginProtection, not by the cookie.
func (s *Server) sameSite() http.SameSite {
	if s.secure {
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(),
		Value:    token,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: s.sameSite(),
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: s.sameSite(),
	})
}

func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

type sessionKey struct{}

type signedIn struct {
	session account.Session
	user    account.User
}

// currentSession resumes the browser's session; ok is false when there is none.
func (s *Server) currentSession(r *http.Request) (signedIn, bool, error) {
	token := s.sessionToken(r)
	if token == "" {
		return signedIn{}, false, nil
	}
	sess, user, err := s.accounts.Resume(r.Context(), token)
	if errors.Is(err, account.ErrNoSession) {
		return signedIn{}, false, nil
	}
	if err != nil {
		return signedIn{}, false, err
	}
	return signedIn{session: sess, user: user}, true, nil
}

// requireSession admits a browser whose session is complete: logged in and,
// when the policy asks, past its second factor. Others go to the login page or
// the MFA step, coming back to where they were going.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return s.require(purpose(assurance.UseAccount), next)
}

// requirePassword admits a browser that has logged in with its password, MFA
// or not: the MFA screens themselves.
func (s *Server) requirePassword(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si, ok, err := s.currentSession(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !ok {
			if s.sessionToken(r) != "" {
				s.clearSessionCookie(w)
			}
			http.Redirect(w, r, s.base+"login?return_to="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, si)))
	})
}

func mustSession(r *http.Request) signedIn {
	return r.Context().Value(sessionKey{}).(signedIn)
}

func meta(r *http.Request) account.Meta {
	return account.Meta{IP: clientIP(r.Context()), UserAgent: cleanUserAgent(r.UserAgent()), RequestID: requestID(r.Context())}
}

// cleanUserAgent makes a client-chosen header safe to store: valid UTF-8 (a
// Postgres text column refuses anything else), no control characters, at most
// 512 characters.
func cleanUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range ua {
		if n == 512 {
			break
		}
		if unicode.IsControl(r) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
