package host

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/outbound"
)

// BenchmarkOutbound_GET measures one GET of a small body from a local
// server: from a plugin (http_request through the host, testdata/fetch),
// from Go through the plugin's outbound client alone, and from Go with a
// plain net/http client, in the same run, so that the differences are the
// cost that http_request adds. "interleaved" runs the three in turn in each
// iteration, so that a shared, noisy machine slows them alike, and reports
// each one's time per GET and the plugin's added cost over net/http.
func BenchmarkOutbound_GET(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()
	ctx := context.Background()
	url := upstream.URL + "/"

	out, err := outbound.New(outbound.Config{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	dir := pluginDir(b, "fetch.wasm")
	writeManifest(b, dir, "fetch", "[http]\nallow = [\""+upstream.URL+"\"]\n")
	h := newTestHost(b, dir, func(c *Config) { c.Logger, c.Outbound = zerolog.Nop(), out })
	req := &Request{ID: "fetch", Payload: abi.EncodeHTTPRequest(abi.HTTPRequest{URL: url})}
	plugin := func() {
		res, err := h.Call(ctx, req)
		if err != nil || len(res.Output) == 0 || res.Output[0] != 0 {
			b.Fatalf("%v %q", err, res.Output)
		}
	}

	p, _ := outbound.ParsePolicy([]string{upstream.URL})
	oc := out.NewClient(outbound.ClientConfig{Plugin: "bench", Policy: p, Timeout: abi.DefaultOutboundTimeoutSeconds * time.Second,
		MaxRequestBytes: abi.DefaultOutboundMaxRequestBytes, MaxResponseBytes: abi.DefaultOutboundMaxResponseBytes})
	defer oc.Close()
	goOutbound := func() {
		if _, e := oc.Do(ctx, abi.HTTPRequest{URL: url}); e != nil {
			b.Fatal(e)
		}
	}

	hc := &http.Client{Transport: &http.Transport{}}
	goNetHTTP := func() {
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}

	for _, bc := range []struct {
		name string
		get  func()
	}{{"plugin", plugin}, {"go-outbound", goOutbound}, {"go-nethttp", goNetHTTP}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.get()
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		var sums [3]time.Duration
		n := 0
		for b.Loop() {
			for i, get := range []func(){plugin, goOutbound, goNetHTTP} {
				start := time.Now()
				get()
				sums[i] += time.Since(start)
			}
			n++
		}
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
		b.ReportMetric(per(sums[0]), "plugin-ns/get")
		b.ReportMetric(per(sums[1]), "outbound-ns/get")
		b.ReportMetric(per(sums[2]), "nethttp-ns/get")
		b.ReportMetric(per(sums[0]-sums[2]), "added-ns/get")
	})
}

// TestBenchmarkOutbound_GET runs the benchmark once, so that it cannot rot.
func TestBenchmarkOutbound_GET(t *testing.T) {
	if res := benchOnce(t, BenchmarkOutbound_GET); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
