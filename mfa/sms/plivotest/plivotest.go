// Package plivotest is a fake Plivo Message API on loopback, enough for the
// real plivo-go SDK (point sms.PlivoConfig.APIURL at URL()):
//
//	POST /v1/Account/{id}/Message/         Basic auth; records the message; 202 {"api_id","message","message_uuid":[…]}
//	GET  /v1/Account/{id}/Message/{uuid}/  the message's state
//
// Wrong credentials get 401 and invalid parameters 400, each with a JSON
// {"api_id","error"} body as Plivo sends. FailNext makes sends fail on
// purpose, and DeliverReport POSTs a status callback signed as Plivo signs it.
package plivotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plivo/plivo-go/v7"
)

// Sent is a message the fake accepted.
type Sent struct {
	UUID          string
	Src           string
	Dst           string
	Text          string
	Type          string
	URL           string // status callback URL, empty if none
	Method        string // status callback method
	Log           any    // the "log" parameter as sent (false asks Plivo not to keep the text)
	MessageExpiry int
	State         string // "queued", then the last status DeliverReport sent
	ErrorCode     string
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	srv       *httptest.Server
	authID    string
	authToken string
	callbacks *http.Client

	mu         sync.Mutex
	sent       []Sent
	byDst      map[string][]int // indexes into sent, per destination without "+"
	arrived    chan struct{}    // closed and replaced when a message is accepted
	requests   int
	failLeft   int
	failStatus int
}

// New starts a fake for the account authID with authToken and closes it when
// the test ends.
func New(t testing.TB, authID, authToken string) *Server {
	t.Helper()
	s, err := Start(authID, authToken, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start serves a fake for the account authID with authToken on addr (a
// loopback "host:port"; "" picks a free port on 127.0.0.1) until Close.
func Start(authID, authToken, addr string) (*Server, error) {
	if authID == "" || authToken == "" {
		return nil, errors.New("plivotest: auth id and token must not be empty")
	}
	s := &Server{authID: authID, authToken: authToken, callbacks: &http.Client{Timeout: 30 * time.Second},
		byDst: map[string][]int{}, arrived: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/Account/{id}/Message/", s.authorized(s.handleCreate))
	mux.Handle("GET /v1/Account/{id}/Message/{uuid}/", s.authorized(s.handleGet))
	s.srv = httptest.NewUnstartedServer(mux)
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("plivotest: %w", err)
		}
		s.srv.Listener.Close()
		s.srv.Listener = l
	}
	s.srv.Start()
	return s, nil
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// URL is the fake's base URL, for sms.PlivoConfig.APIURL.
func (s *Server) URL() string { return s.srv.URL }

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Requests counts message create requests received, refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// FailNext makes the next n authorized message creates answer status with a
// JSON error body.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failStatus = n, status
}

// WaitMessage returns the message to dst (with or without its "+") that
// follows the first seen ones, waiting for it until ctx ends. A caller that
// sends to one number over and over passes how many it has already read.
func (s *Server) WaitMessage(ctx context.Context, dst string, seen int) (Sent, error) {
	dst = strings.TrimPrefix(dst, "+")
	for {
		s.mu.Lock()
		idx, arrived := s.byDst[dst], s.arrived
		var m Sent
		if len(idx) > seen {
			m = s.sent[idx[seen]]
		}
		s.mu.Unlock()
		if len(idx) > seen {
			return m, nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return Sent{}, fmt.Errorf("plivotest: no message %d to %s: %w", seen+1, dst, ctx.Err())
		}
	}
}

// CountTo is how many messages to dst (with or without its "+") were
// accepted: pass it to WaitMessage to wait for the next one.
func (s *Server) CountTo(dst string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byDst[strings.TrimPrefix(dst, "+")])
}

// Code returns the last 6-digit number in text (the code of the WebOTP line),
// or "".
func Code(text string) string {
	codes := codeRE.FindAllString(text, -1)
	if len(codes) == 0 {
		return ""
	}
	return codes[len(codes)-1]
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// LastCode returns the last 6-digit number in the newest message's text (the
// code of the WebOTP line), or "" if there is none.
func (s *Server) LastCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		return ""
	}
	return Code(s.sent[len(s.sent)-1].Text)
}

func (s *Server) authorized(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Message/") {
			s.mu.Lock()
			s.requests++
			s.mu.Unlock()
		}
		id, token, ok := r.BasicAuth()
		if !ok || id != s.authID || token != s.authToken || r.PathValue("id") != s.authID {
			writeError(w, http.StatusUnauthorized, "Authentication failed")
			return
		}
		next(w, r)
	})
}

type createParams struct {
	Src           string `json:"src"`
	PowerpackUUID string `json:"powerpack_uuid"`
	Dst           string `json:"dst"`
	Text          string `json:"text"`
	Type          string `json:"type"`
	URL           string `json:"url"`
	Method        string `json:"method"`
	Log           any    `json:"log"`
	MessageExpiry int    `json:"message_expiry"`
}

var dstRE = regexp.MustCompile(`^\+?[1-9][0-9]{6,14}$`)

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.failLeft > 0 {
		s.failLeft--
		status := s.failStatus
		s.mu.Unlock()
		writeError(w, status, http.StatusText(status))
		return
	}
	s.mu.Unlock()

	var p createParams
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if msg := p.problem(); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	m := Sent{
		UUID: newUUID(), Src: p.Src, Dst: p.Dst, Text: p.Text, Type: p.Type, URL: p.URL,
		Method: p.Method, Log: p.Log, MessageExpiry: p.MessageExpiry, State: "queued",
	}
	if m.URL != "" && m.Method == "" {
		m.Method = http.MethodPost
	}
	s.mu.Lock()
	dst := strings.TrimPrefix(m.Dst, "+")
	s.byDst[dst] = append(s.byDst[dst], len(s.sent))
	s.sent = append(s.sent, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]any{
		"api_id": newUUID(), "message": "message(s) queued", "message_uuid": []string{m.UUID},
	})
}

// problem says what Plivo would refuse in p, or "".
func (p createParams) problem() string {
	switch {
	case p.Src == "" && p.PowerpackUUID == "":
		return "Either of src or powerpack_uuid should be given"
	case p.Src != "" && p.PowerpackUUID != "":
		return "Both src and powerpack_uuid cannot be specified"
	case !dstRE.MatchString(p.Dst):
		return "invalid 'dst' parameter"
	case p.Text == "":
		return "text parameter is required"
	case p.Type != "" && p.Type != "sms":
		return "the fake only sends type sms"
	case p.Method != "" && p.Method != http.MethodGet && p.Method != http.MethodPost:
		return "method must be GET or POST"
	}
	if p.URL != "" {
		if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "invalid 'url' parameter"
		}
	}
	return ""
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	m, ok := s.find(r.PathValue("uuid"))
	if !ok {
		writeError(w, http.StatusNotFound, "message not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"api_id": newUUID(), "message_uuid": m.UUID, "message_state": m.State, "error_code": m.ErrorCode,
		"to_number": m.Dst, "from_number": m.Src, "message_type": "sms", "message_direction": "outbound",
		"units": 1, "total_amount": "0.00500", "total_rate": "0.00500",
	})
}

func (s *Server) find(uuid string) (Sent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.sent {
		if m.UUID == uuid {
			return m, true
		}
	}
	return Sent{}, false
}

// DeliverReport sets the message's state and sends its status callback to the
// message's url with its method, as a form (POST body or GET query) carrying
// MessageUUID, To, From, Type, Status, ErrorCode and Plivo's other fields,
// signed with X-Plivo-Signature-V2/-V2-Nonce and X-Plivo-Signature-V3/-V3-Nonce
// (and the -Ma- variants) as Plivo signs them. Any status is sent as given, so
// tests can send invalid ones. The receiver must answer 2xx.
func (s *Server) DeliverReport(ctx context.Context, uuid, status, errorCode string) error {
	s.mu.Lock()
	i := -1
	for j := range s.sent {
		if s.sent[j].UUID == uuid {
			i = j
		}
	}
	if i < 0 {
		s.mu.Unlock()
		return fmt.Errorf("plivotest: no message %q", uuid)
	}
	s.sent[i].State, s.sent[i].ErrorCode = status, errorCode
	m := s.sent[i]
	s.mu.Unlock()
	if m.URL == "" {
		return fmt.Errorf("plivotest: message %s was sent without a status url", uuid)
	}

	now := time.Now().UTC().Format("2006-01-02 15:04:05-07:00")
	params := map[string]string{
		"MessageUUID": m.UUID, "To": m.Dst, "From": m.Src, "Type": "sms", "Status": status,
		"ErrorCode": errorCode, "Units": "1", "TotalRate": "0.00500", "TotalAmount": "0.00500",
		"MCC": "234", "MNC": "10", "Sequence": "1", "PowerpackUUID": "",
		"MessageTime": now, "QueuedTime": now, "SentTime": now, "DeliveryReportTime": now,
	}
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	target, body := m.URL, io.Reader(http.NoBody)
	if m.Method == http.MethodGet {
		u, _ := url.Parse(m.URL) // checked when the message was created
		q := u.Query()
		for k, v := range form {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		target = u.String()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, m.Method, target, body)
	if err != nil {
		return fmt.Errorf("plivotest: %w", err)
	}
	if m.Method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	nonceV2, nonceV3 := nonce(), nonce()
	v2 := plivo.ComputeSignatureV2(s.authToken, m.URL, nonceV2)
	v3 := plivo.ComputeSignatureV3(s.authToken, m.URL, m.Method, nonceV3, params)
	req.Header.Set("User-Agent", "PlivoHTTP/plivotest")
	req.Header.Set("X-Plivo-Signature-V2", v2)
	req.Header.Set("X-Plivo-Signature-Ma-V2", v2) // the fake account is a main account
	req.Header.Set("X-Plivo-Signature-V2-Nonce", nonceV2)
	req.Header.Set("X-Plivo-Signature-V3", v3)
	req.Header.Set("X-Plivo-Signature-Ma-V3", v3)
	req.Header.Set("X-Plivo-Signature-V3-Nonce", nonceV3)

	resp, err := s.callbacks.Do(req)
	if err != nil {
		return fmt.Errorf("plivotest: status callback: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("plivotest: status callback answered %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"api_id": newUUID(), "error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newUUID returns a random (version 4) UUID, as Plivo's message UUIDs are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// nonce returns 20 random digits, the shape of Plivo's signature nonces.
func nonce() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b[:])
}
