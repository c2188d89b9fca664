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
// cost that http_request adds.
func BenchmarkOutbound_GET(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()
	ctx := context.Background()
	grant := "[http]\nallow = [\"" + upstream.URL + "\"]\n"

	b.Run("plugin", func(b *testing.B) {
		dir := pluginDir(b, "fetch.wasm")
		writeManifest(b, dir, "fetch", grant)
		out, err := outbound.New(outbound.Config{Logger: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		h := newTestHost(b, dir, func(c *Config) { c.Logger, c.Outbound = zerolog.Nop(), out })
		req := &Request{ID: "fetch", Payload: abi.EncodeHTTPRequest(abi.HTTPRequest{URL: upstream.URL + "/"})}
		b.ReportAllocs()
		for b.Loop() {
			res, err := h.Call(ctx, req)
			if err != nil || len(res.Output) == 0 || res.Output[0] != 0 {
				b.Fatalf("%v %q", err, res.Output)
			}
		}
	})
	b.Run("go-outbound", func(b *testing.B) {
		out, err := outbound.New(outbound.Config{Logger: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		p, _ := outbound.ParsePolicy([]string{upstream.URL})
		c := out.NewClient(outbound.ClientConfig{Plugin: "bench", Policy: p, Timeout: abi.DefaultOutboundTimeoutSeconds * time.Second,
			MaxRequestBytes: abi.DefaultOutboundMaxRequestBytes, MaxResponseBytes: abi.DefaultOutboundMaxResponseBytes})
		defer c.Close()
		req := abi.HTTPRequest{URL: upstream.URL + "/"}
		b.ReportAllocs()
		for b.Loop() {
			if _, e := c.Do(ctx, req); e != nil {
				b.Fatal(e)
			}
		}
	})
	b.Run("go-nethttp", func(b *testing.B) {
		c := &http.Client{Transport: &http.Transport{}}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstream.URL+"/", nil)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

// TestBenchmarkOutbound_GET runs the benchmark once, so that it cannot rot.
func TestBenchmarkOutbound_GET(t *testing.T) {
	if res := benchOnce(t, BenchmarkOutbound_GET); res.N == 0 {
		t.Fatal("benchmark did not run")
	}
}
