package pgtest

import (
	"testing"

	"github.com/warden-rpc/warden/storage"
)

// EachBound runs bench as two sub-benchmarks, with maxBytes the bound on
// a plugin's schema (pg.Options.MaxBytes) each compares: none
// ("bound=none") and the server's default ("bound=default",
// storage.DefaultMaxPluginDBBytes).
func EachBound(b *testing.B, bench func(b *testing.B, maxBytes int64)) {
	for _, c := range []struct {
		name     string
		maxBytes int64
	}{{"bound=none", 0}, {"bound=default", storage.DefaultMaxPluginDBBytes}} {
		b.Run(c.name, func(b *testing.B) { bench(b, c.maxBytes) })
	}
}
