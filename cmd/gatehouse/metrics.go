package main

import (
	"fmt"
	"net"
	"strings"
)

const hintMetricsAddr = "set it to the address Prometheus scrapes, e.g. :9464 or 10.0.0.5:9464, on a network the internet does not reach; leave it unset to serve no metrics"

// parseMetricsAddr reads GATEHOUSE_METRICS_ADDR. Metrics (request counts by
// route, login outcomes, SMS delivery results) are for the operator, so they
// are served only on a listener of their own, never on the public one, and
// not at all unless this is set. Unlike profiles, any interface is accepted:
// Prometheus usually scrapes from another host or pod, and keeping that port
// off the internet is the network's job, as it is for the database's.
func parseMetricsAddr(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return "", &configError{name, fmt.Sprintf("%q is not host:port", v), hintMetricsAddr}
	}
	return v, nil
}
