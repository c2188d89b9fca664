// Package metrics exposes Warden's Prometheus metrics: it implements the
// observers that httpapi and host declare, collects the plugins' state at
// each scrape, and serves /metrics on a listener of its own.
//
// Labels are bounded: an RPC id or a route pattern comes from a plugin's
// registrations (httpapi passes UnknownRPC for an id no plugin
// registers), an HTTP route from the router's fixed set, a status or a
// code from a fixed range. The series of one RPC id are resolved once and
// cached, so that a call costs a lookup and a few atomic adds; the server
// keeps the counters of its routes (Requests, PluginRoute), so that their
// requests cost no lookup.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/warden-rpc/warden/abi"
)

// namespace prefixes every metric of Warden's own.
const namespace = "warden"

// latencyBuckets are the buckets of the latency histograms, in seconds:
// plugin calls take from tens of microseconds to the call timeout.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics holds Warden's metrics and their registry. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	inFlight atomic.Int64           // exported by a GaugeFunc: an integer add, not a float's compare-and-swap loop
	httpReqs *prometheus.CounterVec // route, status
	httpByRt sync.Map               // route -> *routeRequests

	rpcReqs    *prometheus.CounterVec   // id, code
	rpcSeconds *prometheus.HistogramVec // id
	rpcIn      *prometheus.CounterVec   // id
	rpcOut     *prometheus.CounterVec   // id
	rpcs       sync.Map                 // id -> *callSeries

	routeReqs    *prometheus.CounterVec   // route, status
	routeSeconds *prometheus.HistogramVec // route
	routeIn      *prometheus.CounterVec   // route
	routeOut     *prometheus.CounterVec   // route
	routes       sync.Map                 // pattern -> *callSeries

	reloads  *prometheus.CounterVec   // plugin, result
	outbound *prometheus.CounterVec   // plugin, grant, status
	commits  *prometheus.HistogramVec // db
	groups   sync.Map                 // db -> prometheus.Observer
}

// New returns Metrics registered on a registry of their own, with the Go
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	h := func(name, help, label string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: latencyBuckets}, []string{label})
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "http_requests_in_flight", Help: "HTTP requests being served."},
		func() float64 { return float64(m.inFlight.Load()) })
	m.httpReqs = f("http_requests_total", "HTTP requests answered, by route and status.", "route", "status")
	m.rpcReqs = f("rpc_requests_total", "RPC calls that reached the host, by RPC id and gRPC-style code.", "id", "code")
	m.rpcSeconds = h("rpc_duration_seconds", "Time of RPC calls, by RPC id.", "id")
	m.rpcIn = f("rpc_request_bytes_total", "RPC payload bytes received, by RPC id.", "id")
	m.rpcOut = f("rpc_response_bytes_total", "RPC result bytes sent, by RPC id.", "id")
	m.routeReqs = f("route_requests_total", "Plugin HTTP route calls, by registered pattern and status.", "route", "status")
	m.routeSeconds = h("route_duration_seconds", "Time of plugin HTTP route calls, by pattern.", "route")
	m.routeIn = f("route_request_bytes_total", "Plugin HTTP route request body bytes, by pattern.", "route")
	m.routeOut = f("route_response_bytes_total", "Plugin HTTP route response body bytes, by pattern.", "route")
	m.reloads = f("plugin_reloads_total", "Plugin loads by result: loaded, or failed (a new failure of a file).", "plugin", "result")
	m.outbound = f("plugin_outbound_requests_total", "Outbound HTTP calls of plugins, by plugin, the manifest grant that allowed them ((not granted) for refusals) and response status (0: none).", "plugin", "grant", "status")
	m.commits = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "db_group_commit_size",
		Help:    "Writes made durable by one group COMMIT, by database (a plugin's, or warden).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9)}, []string{"db"})
	m.reg.MustRegister(m.commits)
	m.reg.MustRegister(inFlight, m.httpReqs, m.rpcReqs, m.rpcSeconds, m.rpcIn, m.rpcOut,
		m.routeReqs, m.routeSeconds, m.routeIn, m.routeOut, m.reloads, m.outbound,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusCounters are the counters of one label value by HTTP status,
// resolved on first use. With http set, a status that net/http does not
// name counts under its class: 599 as "5xx". A plugin route answers any
// status 200..599 it likes, and each would otherwise be a series kept for
// good; the named ones are about sixty.
type statusCounters struct {
	vec   *prometheus.CounterVec
	label string
	http  bool
	by    [600]atomic.Pointer[counter]
}

type counter struct{ prometheus.Counter }

// inc adds one to status's counter; a status outside 0..599 counts as 0.
func (s *statusCounters) inc(status int) {
	if status < 0 || status >= len(s.by) {
		status = 0
	}
	c := s.by[status].Load()
	if c == nil {
		v := strconv.Itoa(status)
		if s.http {
			v = httpStatusLabel(status)
		}
		// The statuses of a class share its child: WithLabelValues
		// returns the same one for the same values.
		c = &counter{s.vec.WithLabelValues(s.label, v)}
		s.by[status].Store(c) // a race stores the same child twice: harmless
	}
	c.Inc()
}

// callSeries are the series of one RPC id or route pattern.
type callSeries struct {
	seconds prometheus.Observer
	in, out prometheus.Counter
	codes   statusCounters // by code for RPCs, by status for routes
}

// done counts one call: its code or status, time and bytes.
func (s *callSeries) done(code int, elapsed time.Duration, in, out int) {
	s.codes.inc(code)
	s.seconds.Observe(elapsed.Seconds())
	s.in.Add(float64(in))
	s.out.Add(float64(out))
}

// series returns the series of key, made at its first call; httpStatus
// says that its codes are HTTP statuses (see statusCounters).
func (m *Metrics) series(cache *sync.Map, key string, httpStatus bool, reqs *prometheus.CounterVec, seconds *prometheus.HistogramVec, in, out *prometheus.CounterVec) *callSeries {
	if s, ok := cache.Load(key); ok {
		return s.(*callSeries)
	}
	s := &callSeries{
		seconds: seconds.WithLabelValues(key),
		in:      in.WithLabelValues(key),
		out:     out.WithLabelValues(key),
		codes:   statusCounters{vec: reqs, label: key, http: httpStatus},
	}
	got, _ := cache.LoadOrStore(key, s)
	return got.(*callSeries)
}

// RequestStarted implements httpapi.Observer.
func (m *Metrics) RequestStarted() { m.inFlight.Add(1) }

// Requests implements httpapi.Observer: the counter of route's requests
// (httpapi.RequestCounter, an interface literal). The server keeps one for
// each route it knows, so that a request's end costs no lookup. A route
// that has had a request answers its counters; another gets a handle that
// makes them at its first request, as PluginRoute does: the server asks
// for every plugin route's counter when it builds the routes, and a route
// no client requests must hold nothing (each route's counters are a table
// of statuses, and each reload can bring new patterns).
func (m *Metrics) Requests(route string) interface{ Done(status int) } {
	if s, ok := m.httpByRt.Load(route); ok {
		return s.(*routeRequests)
	}
	return &lazyRequests{m: m, route: route}
}

// routeRequestsOf returns route's counters, made at its first request.
func (m *Metrics) routeRequestsOf(route string) *routeRequests {
	s, ok := m.httpByRt.Load(route)
	if !ok {
		s, _ = m.httpByRt.LoadOrStore(route, &routeRequests{m: m, codes: statusCounters{vec: m.httpReqs, label: route, http: true}})
	}
	return s.(*routeRequests)
}

// lazyRequests is the request counter of a route that had no request when
// it was asked for; r is its counters, resolved at its first request.
type lazyRequests struct {
	m     *Metrics
	route string
	r     atomic.Pointer[routeRequests]
}

// Done ends a request of the route, answered with status.
func (l *lazyRequests) Done(status int) {
	r := l.r.Load()
	if r == nil {
		r = l.m.routeRequestsOf(l.route)
		l.r.Store(r) // a race stores the same counters twice: harmless
	}
	r.Done(status)
}

// routeRequests counts one route label's requests by status.
type routeRequests struct {
	m     *Metrics
	codes statusCounters
}

// Done ends a request of the route, answered with status.
func (r *routeRequests) Done(status int) {
	r.m.inFlight.Add(-1)
	r.codes.inc(status)
}

// RPCDone implements httpapi.Observer.
func (m *Metrics) RPCDone(id string, code abi.Code, elapsed time.Duration, in, out int) {
	m.series(&m.rpcs, id, false, m.rpcReqs, m.rpcSeconds, m.rpcIn, m.rpcOut).done(int(code), elapsed, in, out)
}

// PluginRoute implements httpapi.Observer: the counter of plugin route
// pattern's calls (httpapi.CallCounter, an interface literal), which the
// server keeps with the route. Its series are made at its first call, as
// an RPC's are: a pattern that is registered but never called exports
// nothing.
func (m *Metrics) PluginRoute(pattern string) interface {
	Done(status int, elapsed time.Duration, in, out int)
} {
	return &routeCalls{m: m, pattern: pattern}
}

// routeCalls is a plugin route's call counter; s is its series, resolved
// at the first call.
type routeCalls struct {
	m       *Metrics
	pattern string
	s       atomic.Pointer[callSeries]
}

// Done counts one call of the route: its status, time and bytes.
func (r *routeCalls) Done(status int, elapsed time.Duration, in, out int) {
	s := r.s.Load()
	if s == nil {
		m := r.m
		s = m.series(&m.routes, r.pattern, true, m.routeReqs, m.routeSeconds, m.routeIn, m.routeOut)
		r.s.Store(s) // a race stores the same series twice: harmless
	}
	s.done(status, elapsed, in, out)
}

// PluginReloaded implements host.Observer.
func (m *Metrics) PluginReloaded(plugin string, ok bool) {
	result := "failed"
	if ok {
		result = "loaded"
	}
	m.reloads.WithLabelValues(label(plugin), result).Inc()
}

// label returns s as a label value, which must be UTF-8: Prometheus's
// client panics on any other, and a plugin's name is a file name, which
// need not be. The host refuses such files, and names them in UTF-8; this
// keeps a panic out of the metrics if a name ever gets through.
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// OutboundCall implements outbound.Observer: it counts one outbound HTTP
// call of plugin under grant, an entry of the plugin's manifest (or
// outbound.NotGrantedLabel), never the URL the plugin asked for, so the
// label values stay bounded; status is 0 when there was no response. A
// status net/http does not name counts under its class, as a route's does
// (statusCounters): the server a grant names may be the plugin author's,
// and answer every status HTTP's three digits allow.
func (m *Metrics) OutboundCall(plugin, grant string, status int) {
	m.outbound.WithLabelValues(label(plugin), label(grant), httpStatusLabel(status)).Inc()
}

// httpStatusLabel is the label value of an HTTP status: the status, or,
// for one net/http does not name, its class ("5xx"); 0 (no response)
// stays 0.
func httpStatusLabel(status int) string {
	if status != 0 && http.StatusText(status) == "" {
		return strconv.Itoa(status/100%10) + "xx"
	}
	return strconv.Itoa(status)
}

// GroupCommitted implements storage.CommitObserver.
func (m *Metrics) GroupCommitted(db string, size int) {
	o, ok := m.groups.Load(db)
	if !ok {
		o, _ = m.groups.LoadOrStore(db, m.commits.WithLabelValues(db))
	}
	o.(prometheus.Observer).Observe(float64(size))
}
