package warden

import (
	"time"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// Now returns the host's wall-clock time (time_now). time.Now gives the
// same through WASI.
func Now() time.Time { return time.Unix(0, sys.TimeNow()) }

// RandomFill fills b with cryptographically secure random bytes from the
// host (random_fill), 64 KiB per host call. crypto/rand gives the same
// through WASI.
func RandomFill(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), sys.MaxRandomBytes)
		if err := check(sys.RandomFill(b[:n])); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
