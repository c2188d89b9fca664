package host

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_breakerCountsFailedInits: a plugin whose instances fail in init
// (testdata/initspin.wat spins there until the deadline) trips the circuit
// breaker as one that fails in its handler does, so that it stops costing a
// whole call timeout of CPU per call. A failed instantiation used to be
// recorded nowhere: 12 calls in a row each spun, with the threshold at 5.
func TestHost_breakerCountsFailedInits(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "initspin.wasm"), func(c *Config) {
		c.CallTimeout = 200 * time.Millisecond
		c.BreakerCooldown = time.Hour
	})
	call := func(id string) *CallError {
		_, err := h.Call(context.Background(), &Request{ID: id})
		var ce *CallError
		if err == nil || !errors.As(err, &ce) {
			t.Fatalf("%s: %v, want a CallError", id, err)
		}
		return ce
	}
	if ce := call("burn"); ce.Code != abi.CodeDeadlineExceeded { // spends the probe: one crash
		t.Fatalf("burn: %+v", ce)
	}
	spun := 0
	for range 12 {
		if ce := call("spin"); ce.Refused != RefusedCoolingDown {
			spun++
		}
	}
	if want := abi.DefaultBreakerThreshold - 1; spun != want {
		t.Fatalf("%d calls spun in init before the breaker opened, want %d (threshold %d, one crash in the handler)", spun, want, abi.DefaultBreakerThreshold)
	}
}
