package db

import (
	"errors"
	"math/rand/v2"
	"time"

	warden "github.com/warden-rpc/warden/sdk/go"
)

// Retries of a transaction that failed with DB_BUSY (ABI.md section 6):
// at most MaxTxAttempts attempts; before attempt k+1 the transaction
// sleeps a random time between half and all of BusyBackoff·2^(k-1), so
// 2.5-5, 5-10, 10-20 and 20-40 ms, at most 75 ms in all.
const (
	MaxTxAttempts = 5
	BusyBackoff   = 5 * time.Millisecond
)

// sleep is time.Sleep, which tests replace. In a plugin it sleeps through
// WASI's poll_oneoff, which the host serves in slices of at most 50 ms, so
// that a sleep never outlasts the call's deadline by more than a slice.
var sleep = time.Sleep

// backoff returns the sleep before attempt+1, attempt counting from 1.
func backoff(attempt int) time.Duration {
	d := BusyBackoff << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

// Transaction runs fn in a transaction: it commits when fn returns nil and
// rolls back when fn returns an error or panics. When Begin, fn or Commit
// fails with StatusDBBusy (a lock held too long on SQLite, a serialization
// failure or deadlock on PostgreSQL), it rolls back, sleeps a jittered,
// growing time (see MaxTxAttempts) and runs fn again in a new
// transaction, up to MaxTxAttempts times in all; fn must therefore keep no
// state of its own across attempts. Other errors end it at once.
//
// # Errors
//
// fn's error, or Begin's or Commit's: of the last attempt when all were
// busy.
func Transaction(mode TxMode, fn func(tx *Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := transactionOnce(mode, fn)
		if err == nil || !errors.Is(err, warden.StatusDBBusy) || attempt == MaxTxAttempts {
			return err
		}
		sleep(backoff(attempt))
	}
}
