package netdeadline

import (
	"net"
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
