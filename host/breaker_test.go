package host

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_Call_breaker crashes a plugin until its breaker opens: its calls
// are then refused at once with code 14, until the cool-down ends.
func TestHost_Call_breaker(t *testing.T) {
	// Long enough that a loaded machine still makes the refused call inside
	// it; the test waits it out once.
	const cooldown = 3 * time.Second
	h := newTestHost(t, pluginDir(t, "hostile.wasm"), func(c *Config) {
		c.BreakerThreshold = 3
		c.BreakerCooldown = cooldown
	})
	for i := range 3 {
		if ce := callErr(t, h, &Request{ID: "trap"}); ce.Code != abi.CodeInternal {
			t.Fatalf("crash %d: code %d", i, ce.Code)
		}
	}
	// "loop" would answer 4 at its deadline if it ran; 14 shows it did not.
	ce := callErr(t, h, &Request{ID: "loop"})
	if ce.Code != abi.CodeUnavailable || ce.Refused != RefusedCoolingDown || ce.Plugin != "hostile" {
		t.Fatalf("after 3 crashes: code %d %v from %q, want 14 RefusedCoolingDown from hostile", ce.Code, ce.Refused, ce.Plugin)
	}
	time.Sleep(cooldown)
	res, err := h.Call(context.Background(), &Request{ID: "echo", Payload: []byte("back")})
	if err != nil || string(res.Output) != "back" {
		t.Fatalf("after the cool-down: %v %v", res, err)
	}
	t.Run("PluginErrorsDoNotCount", func(t *testing.T) {
		for range 5 {
			if ce := callErr(t, h, &Request{ID: "fail", Payload: []byte("xxx")}); ce.Code != abi.CodeInvalidArgument {
				t.Fatalf("got code %d, want the plugin's 3", ce.Code)
			}
		}
	})
}

// TestBreaker_oneCallAfterCooldown: once the cool-down has passed, one
// call runs to try the plugin again, and the others are still refused
// until it has shown whether the plugin still crashes. Every call ran
// then, each able to crash and spend a call timeout of CPU, until the
// first of them recorded its outcome.
func TestBreaker_oneCallAfterCooldown(t *testing.T) {
	log := zerolog.Nop()
	b := &breaker{threshold: 2, cooldown: time.Hour}
	b.record(true, &log)
	b.record(true, &log)
	if b.allow() {
		t.Fatal("a call was allowed while the breaker is open")
	}
	b.openUntil.Store(time.Now().Add(-time.Millisecond).UnixNano()) // the cool-down has passed
	allowed := 0
	for range 10 {
		if b.allow() {
			allowed++
		}
	}
	if allowed != 1 {
		t.Fatalf("%d calls allowed after the cool-down, want 1", allowed)
	}
	b.record(false, &log) // the trial call went well: closed
	for range 3 {
		if !b.allow() {
			t.Fatal("a call was refused after the trial call went well")
		}
	}
}
