package db

import (
	"errors"
	"testing"
	"time"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

// recordSleeps replaces sleep for the test and returns what it was asked.
func recordSleeps(t *testing.T) *[]time.Duration {
	t.Helper()
	var slept []time.Duration
	old := sleep
	sleep = func(d time.Duration) { slept = append(slept, d) }
	t.Cleanup(func() { sleep = old })
	return &slept
}

func TestTransaction_retriesBusy(t *testing.T) {
	tests := []struct {
		name         string
		busy         int // commits that fail with DB_BUSY
		wantAttempts int
		wantBusy     bool
	}{
		{"OK", 0, 1, false},
		{"BusyTwice", 2, 3, false},
		{"BusyToTheBound", MaxTxAttempts - 1, MaxTxAttempts, false},
		{"ErrBusyPastTheBound", 100, MaxTxAttempts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakehost.Reset()
			h.CommitBusy = tt.busy
			slept := recordSleeps(t)
			attempts := 0
			err := Transaction(ReadWrite, func(tx *Tx) error {
				attempts++
				_, err := tx.Exec("UPDATE t SET v = v + 1")
				return err
			})
			if attempts != tt.wantAttempts {
				t.Errorf("fn ran %d times, want %d", attempts, tt.wantAttempts)
			}
			if busy := errors.Is(err, warden.StatusDBBusy); busy != tt.wantBusy || (!busy && err != nil) {
				t.Errorf("Transaction error = %v, want busy %v", err, tt.wantBusy)
			}
			if len(*slept) != tt.wantAttempts-1 {
				t.Fatalf("slept %d times, want %d", len(*slept), tt.wantAttempts-1)
			}
			for i, d := range *slept {
				if max := BusyBackoff << i; d < max/2 || d > max {
					t.Errorf("sleep %d = %v, want %v to %v", i+1, d, max/2, max)
				}
			}
			// Every busy attempt ends with a rollback before the next begins.
			begins, rollbacks := 0, 0
			for _, l := range h.DBLog {
				switch l {
				case "BEGIN 1":
					begins++
				case "ROLLBACK":
					rollbacks++
				}
			}
			if begins != tt.wantAttempts || rollbacks < tt.wantAttempts-1 {
				t.Errorf("db log %q: %d begins, %d rollbacks", h.DBLog, begins, rollbacks)
			}
		})
	}
}

func TestTransaction_otherErrorsNotRetried(t *testing.T) {
	for _, st := range []int32{int32(warden.StatusDBError), int32(warden.StatusDBReadOnly), int32(warden.StatusTxFailed)} {
		h := fakehost.Reset()
		h.ExecStatus = st
		slept := recordSleeps(t)
		attempts := 0
		err := Transaction(ReadWrite, func(tx *Tx) error {
			attempts++
			_, err := tx.Exec("UPDATE t SET v = 1")
			return err
		})
		if attempts != 1 || len(*slept) != 0 || !errors.Is(err, warden.Status(st)) {
			t.Errorf("status %d: %d attempts, %d sleeps, error %v; want 1, 0 and that status", st, attempts, len(*slept), err)
		}
	}
	h := fakehost.Reset()
	attempts := 0
	_ = Transaction(ReadWrite, func(*Tx) error { attempts++; return errors.New("mine") })
	if attempts != 1 || h.CommitBusy != 0 {
		t.Errorf("fn's own error: %d attempts, want 1", attempts)
	}
}
