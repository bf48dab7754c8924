package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	signups  *prometheus.CounterVec
	mfa      *prometheus.CounterVec
	sms      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total",
			Help: "Password login attempts by outcome.",
		}, []string{"outcome"}),
		signups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_signups_total",
			Help: "Signup attempts by outcome.",
		}, []string{"outcome"}),
	}
	m.mfa = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_mfa_challenges_total",
		Help: "SMS challenge outcomes.",
	}, []string{"outcome"})
	m.sms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_sms_messages_total",
		Help: "SMS messages by provider and status (sent, retry, failed, expired from the dispatcher; delivered, undelivered from delivery reports).",
	}, []string{"provider", "status"})
	for _, c := range []prometheus.Collector{m.requests, m.logins, m.signups, m.mfa, m.sms} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) login(outcome string)  { m.logins.WithLabelValues(outcome).Inc() }
func (m *metrics) signup(outcome string) { m.signups.WithLabelValues(outcome).Inc() }

func (m *metrics) challenge(outcome string)           { m.mfa.WithLabelValues(outcome).Inc() }
func (m *metrics) smsMessage(provider, status string) { m.sms.WithLabelValues(provider, status).Inc() }

// SMSResult counts a dispatcher outcome; the dispatcher calls it.
func (s *Server) SMSResult(provider, status string) { s.metrics.smsMessage(provider, status) }
