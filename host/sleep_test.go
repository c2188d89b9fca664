package host

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// TestHost_wasiSleep: a plugin that waits through WASI's poll_oneoff
// really sleeps (a few polls for 300 ms, not a spin of thousands), and a
// wait longer than the call's deadline ends at the deadline, since the
// host sleeps in slices of at most maxSleepSlice.
func TestHost_wasiSleep(t *testing.T) {
	// 3 s: the 300 ms nap must fit in it with room for a loaded machine.
	h := newTestHost(t, pluginDir(t, "sleeper.wasm"), func(c *Config) { c.CallTimeout = 3 * time.Second })
	res, err := h.Call(context.Background(), &Request{ID: "nap"})
	if err != nil {
		t.Fatal(err)
	}
	// Each poll sleeps min(time left, maxSleepSlice) or longer.
	if n := binary.LittleEndian.Uint32(res.Output); n == 0 || n > uint32(300*time.Millisecond/maxSleepSlice)+1 {
		t.Errorf("nap polled %d times for 300 ms, want 1 to %d", n, 300*time.Millisecond/maxSleepSlice+1)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Call(context.Background(), &Request{ID: "hibernate"})
		done <- err
	}()
	select {
	case err := <-done:
		var ce *CallError
		if !errors.As(err, &ce) || ce.Code != abi.CodeDeadlineExceeded {
			t.Errorf("hibernate: %v, want code %d", err, abi.CodeDeadlineExceeded)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an hour's poll_oneoff outlived the 3 s deadline by 27 s")
	}
}
