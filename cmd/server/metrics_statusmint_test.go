package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

// TestServer_metricsRouteStatusesBounded is an attack on the metrics: the
// statusmint plugin's route answers with whatever status its client asks
// for, and the client asks for every one of 200..599. Each status a route
// answers is a series of warden_route_requests_total and of
// warden_http_requests_total, kept for good, so one plugin's 256 routes
// would hold 204,800 series (104 MiB of heap, an 11 MiB scrape). The
// statuses net/http names (about sixty) keep a series each; any other
// counts under its class, such as "5xx".
func TestServer_metricsRouteStatusesBounded(t *testing.T) {
	dir := fixtureDir(t, "testdata/attacks/statusmint.wasm")
	s := startServer(t, append(dataArgs(t, dir), "-metrics-addr", "127.0.0.1:0")...)
	murl := metricsURL(t, s)
	for status := 200; status < 600; status++ {
		body := binary.LittleEndian.AppendUint32(nil, uint32(status))
		if res := do(t, "POST", s.URL+"/mint", string(body), nil); res.Status != status {
			t.Fatalf("POST /mint for %d: %d", status, res.Status)
		}
	}
	got := scrape(t, murl)
	for _, metric := range []string{"warden_route_requests_total", "warden_http_requests_total"} {
		series := 0
		for k := range got {
			if strings.HasPrefix(k, metric+`{route="/mint"`) {
				series++
			}
		}
		if series == 0 || series > 64 {
			t.Errorf("%s has %d series for the route /mint, want 1..64: a plugin mints a series per status it answers", metric, series)
		}
	}
}
