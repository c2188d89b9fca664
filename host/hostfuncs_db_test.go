package host

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// allocLimit is a generous bound on what one abusive call of the dbabuse
// plugin may allocate in the host: its instance's memory (17 MiB) and the
// bounded work of the call. The attacks it guards against cost gigabytes.
const allocLimit = 256 << 20

// callAbuse calls rpc of the dbabuse plugin and returns what its host call
// returned (the plugin's output), the call's error, how many bytes the host
// allocated meanwhile and how long the call took.
func callAbuse(t *testing.T, h *Host, rpc string) (ret int64, err error, alloc uint64, took time.Duration) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := h.Call(context.Background(), &Request{ID: rpc})
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil {
		if len(res.Output) != 8 {
			t.Fatalf("%s: output %q, want an i64", rpc, res.Output)
		}
		ret = int64(binary.LittleEndian.Uint64(res.Output))
	}
	return ret, err, after.TotalAlloc - before.TotalAlloc, took
}

// TestDB_abuse replays two memory amplification attacks, each of which
// took the unbounded host to about a gigabyte:
//   - ArgumentFlood: 16 MiB of 1-byte NULL arguments to db_exec("SELECT 1").
//     The host refuses them with BAD_ARGUMENT from the count alone, before
//     decoding a value.
//   - Zeroblob: SELECT zeroblob(900000000). The value is over SQLite's
//     length limit and fails inside SQLite, before it is built.
func TestDB_abuse(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "dbabuse.wasm"), nil)
	tests := []struct {
		name, rpc string
		want      abi.Status
	}{
		{"ArgumentFlood", "null_args", abi.StatusBadArgument},
		{"Zeroblob", "zeroblob", abi.StatusLimitExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ret, err, alloc, took := callAbuse(t, h, tt.rpc)
			if err != nil {
				t.Fatal(err)
			}
			if abi.Status(ret) != tt.want {
				t.Errorf("the host call returned %d, want %s (%d)", ret, tt.want, tt.want)
			}
			if alloc > allocLimit {
				t.Errorf("the host allocated %d MiB, want at most %d", alloc>>20, allocLimit>>20)
			}
			t.Logf("allocated %d KiB in %s", alloc>>10, took)
		})
	}
}

// TestDBQuery_deadline checks that a statement still running at the call's
// deadline is interrupted: an endless recursive query under a 1 s deadline
// ends the call soon after it (within a generous bound), as a deadline
// error, and the host serves the next call.
func TestDBQuery_deadline(t *testing.T) {
	h := newTestHost(t, pluginDir(t, "dbabuse.wasm"), func(c *Config) { c.CallTimeout = time.Second })
	_, err, _, took := callAbuse(t, h, "endless")
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != abi.CodeDeadlineExceeded {
		t.Errorf("got %v, want a deadline error", err)
	}
	if took > 15*time.Second {
		t.Errorf("the call took %s with a 1s deadline", took)
	}
	t.Logf("the call took %s", took)
	if ret, err, _, _ := callAbuse(t, h, "zeroblob"); err != nil || abi.Status(ret) != abi.StatusLimitExceeded {
		t.Errorf("next call: %d, %v", ret, err)
	}
}
