package storage_test

import (
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// rssBytes is the process's resident set size, from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := bytes.Fields(b)
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// peakDuring runs run while a goroutine samples measure every interval
// (and once more before it stops), and returns the largest sample.
func peakDuring(t *testing.T, every time.Duration, measure func(*testing.T) int64, run func()) int64 {
	var peak atomic.Int64
	stop, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if n := measure(t); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
		}
	}()
	run()
	close(stop)
	<-polled
	return peak.Load()
}
