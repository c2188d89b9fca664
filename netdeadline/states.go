package netdeadline

import (
	"net"
	"net/http"
	"time"
)

// Timeouts are an HTTP/1 server's timeouts, with http.Server's meanings:
// ReadHeader bounds the time from a request's first byte (or a new
// connection) to the end of its headers, Read the time from the same point
// to the end of its body, Write the time from the end of the headers to
// the end of the response, Idle the wait for the next request on a
// kept-alive connection. Zero or negative means none, except that, as in
// http.Server, ReadHeader and Idle default to Read.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// Phases of an HTTP/1 connection, for the timeouts of a WrapHTTP listener.
const (
	// phaseNone: no timeout from states (Wrap, or after a hijack).
	phaseNone uint32 = iota
	// phaseHeader: a new connection, or a request's first bytes came.
	phaseHeader
	// phaseActive: net/http read a request's headers (StateActive).
	phaseActive
	// phaseIdle: waiting for the next request (StateIdle).
	phaseIdle
)

// WrapHTTP returns a Listener for ln that applies t to its connections
// from their states, in place of http.Server's own timeouts, and starts its
// goroutine. Serve it from an http.Server whose ReadHeaderTimeout,
// ReadTimeout, WriteTimeout and IdleTimeout are zero and whose ConnState
// calls the Listener's ConnState.
//
// # Notes
//
// net/http with its timeouts on reads the clock and sets a deadline four
// to six times per request; here a request costs two state changes that
// net/http makes anyway and no clock read. Timeouts of at least MinCoarse
// are kept coarse: they end I/O at most 2 Resolutions late, never early
// while the goroutine keeps its pace. Shorter ones read the clock and use
// the real connection's deadlines. HTTP/1 only: an HTTP/2 or TLS
// connection is not a *Conn in ConnState and gets no timeout from it.
func WrapHTTP(ln net.Listener, t Timeouts) *Listener {
	l := wrap(ln, Resolution, MinCoarse)
	l.setTimeouts(t)
	return l
}

// setTimeouts sets t; before the first Accept only.
func (l *Listener) setTimeouts(t Timeouts) {
	if t.ReadHeader <= 0 {
		t.ReadHeader = t.Read
	}
	if t.Idle <= 0 {
		t.Idle = t.Read
	}
	l.timeouts = t
	for _, d := range []time.Duration{t.ReadHeader, t.Read, t.Write, t.Idle} {
		if d > 0 && d < l.minCoarse {
			l.precise = true
		}
	}
}

// stamp returns a time since the epoch that is not before now: the clock
// when a timeout is short, else the last tick's time plus a resolution,
// which needs no clock read.
func (l *Listener) stamp() time.Duration {
	if l.precise {
		return time.Since(l.epoch)
	}
	return time.Duration(l.now.Load()) + l.resolution
}

// ConnState applies the listener's timeouts to nc on net/http's state
// changes; set it as the http.Server's ConnState. A connection that is not
// one of the listener's is left alone.
//
// StateActive (the headers are read) bounds the rest of the request's
// reading by Read from its first byte and the response by Write from now;
// StateIdle bounds the wait for the next request by Idle. The next
// request's first bytes (see Read), or net/http's sign that it found them
// in its buffer (see zeroWhileWaiting), start its ReadHeader timeout. A
// hijacked connection has no timeout any more.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*Conn)
	if !ok || c.l != l || c.phase.Load() == phaseNone {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateActive:
		c.phase.Store(phaseActive)
		c.stateDeadline(&c.read, c.start, l.timeouts.Read)
		c.stateDeadline(&c.write, l.stamp(), l.timeouts.Write)
	case http.StateIdle:
		c.phase.Store(phaseIdle)
		c.idleZeros = 0
		c.stateDeadline(&c.read, l.stamp(), l.timeouts.Idle)
	case http.StateHijacked, http.StateClosed:
		c.phase.Store(phaseNone)
		c.stateDeadline(&c.read, 0, 0)
		c.stateDeadline(&c.write, 0, 0)
	}
}

// Read reads from the connection. The first bytes that come while it waits
// for the next request start that request's ReadHeader timeout.
//
// # Errors
//
// The real connection's.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.phase.Load() == phaseIdle {
		c.startRequest()
	}
	return n, err
}

// startRequest moves a connection waiting for a request to phaseHeader.
func (c *Conn) startRequest() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.startRequestLocked()
}

// zeroWhileWaiting notes a zero read deadline from net/http on a
// connection waiting for a request; c.mu is held. With its own timeouts
// off, net/http sets two after StateIdle: one before it peeks at the next
// request's first bytes and one when the peek returns. A peek that needed
// no read (the request came with the previous one and waits in net/http's
// buffer) leaves the second as the only sign that the request started, so
// it starts the ReadHeader timeout, as http.Server starts its own after
// the peek; else a request half in the buffer would wait for Idle.
func (c *Conn) zeroWhileWaiting() {
	if c.phase.Load() != phaseIdle {
		return
	}
	if c.idleZeros++; c.idleZeros >= 2 {
		c.startRequestLocked()
	}
}

// startRequestLocked is startRequest with c.mu held.
func (c *Conn) startRequestLocked() {
	if c.phase.Load() != phaseIdle {
		return
	}
	c.phase.Store(phaseHeader)
	c.start = c.l.stamp()
	c.stateDeadline(&c.read, c.start, c.l.timeouts.ReadHeader)
}

// waiting reports whether c waits for a request or its headers; c.mu is
// held.
func (c *Conn) waiting() bool {
	p := c.phase.Load()
	return p == phaseHeader || p == phaseIdle
}

// stateDeadline sets s's deadline to d after from (a stamp), as a timeout
// from the connection's state, or clears it when d is not positive; c.mu
// is held. A d under the listener's minimum coarse deadline goes to the
// real connection.
func (c *Conn) stateDeadline(s *side, from, d time.Duration) {
	switch {
	case d <= 0:
		s.due, s.state = 0, false
		_ = c.dropReal(s) // a closed connection fails harmlessly
	case d >= c.l.minCoarse:
		s.due, s.state = from+d, true
		_ = c.dropReal(s)
	default:
		s.due, s.real, s.state = 0, true, true
		_ = c.setReal(s, c.l.epoch.Add(from+d))
	}
}
