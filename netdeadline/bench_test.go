package netdeadline

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// BenchmarkSetDeadlines sets the deadlines net/http sets for one request
// with its timeouts on (idle, header, whole request, write, write cleared),
// on a real TCP connection and on a wrapped one.
func BenchmarkSetDeadlines(b *testing.B) {
	_, wrapped, _ := pair(b)
	for _, bc := range []struct {
		name string
		c    net.Conn
	}{{"real", wrapped.Conn}, {"coarse", wrapped}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.c.SetReadDeadline(time.Now().Add(60 * time.Second))
				_ = bc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_ = bc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_ = bc.c.SetWriteDeadline(time.Now().Add(35 * time.Second))
				_ = bc.c.SetWriteDeadline(time.Time{})
			}
		})
	}
}

// BenchmarkStateTimeouts does, on a wrapped connection of a WrapHTTP-like
// listener, what one kept-alive request costs in deadlines when the
// listener applies the timeouts: the two state changes, the next request's
// first bytes, and the zero deadlines net/http sets with its own timeouts
// off. Compare with BenchmarkSetDeadlines/coarse, the same request with
// http.Server's timeouts.
func BenchmarkStateTimeouts(b *testing.B) {
	l, c, _ := pair(b)
	l.setTimeouts(Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 35 * time.Second, Idle: 60 * time.Second})
	c.phase.Store(phaseHeader)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.SetReadDeadline(time.Time{}) // end of the headers
		l.ConnState(c, http.StateActive)
		_ = c.SetReadDeadline(time.Time{}) // read-ahead
		_ = c.SetWriteDeadline(time.Time{})
		l.ConnState(c, http.StateIdle)
		_ = c.SetReadDeadline(time.Time{}) // idle
		c.startRequest()                   // the next request's first bytes
		_ = c.SetReadDeadline(time.Time{}) // after them
	}
}
