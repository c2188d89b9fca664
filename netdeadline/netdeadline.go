// Package netdeadline wraps a net.Listener so that the read and write
// deadlines of its connections cost no runtime timer, and, for an HTTP/1
// server, so that its timeouts cost no deadline per request at all.
//
// net/http sets four to six deadlines per request when its timeouts are
// on (ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout), each
// after a clock read and each a runtime timer taken, moved or stopped
// under a lock: about a microsecond per request on a small server, as much
// as running a small plugin. A connection from this package keeps a
// deadline that is far enough away (at least MinCoarse) as a number, and
// one goroutine per listener, waking every Resolution, expires the ones
// that passed by setting a deadline in the past on the real connection.
// That fails pending and later I/O with os.ErrDeadlineExceeded, as the
// real deadline would have, at most one Resolution late. A deadline that
// is near, already past or zero goes to the real connection at once, so
// that net/http's "abort this read now" (a deadline in the past) keeps its
// exact meaning.
//
// WrapHTTP goes further: with http.Server's timeouts off, the listener
// applies the same timeouts itself, from the connection states net/http
// reports anyway (http.Server.ConnState) and from the first bytes of each
// request, with no clock read.
package netdeadline

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// Resolution is how often a listener's goroutine expires deadlines:
	// a coarse deadline fails I/O at most this much late.
	Resolution = 100 * time.Millisecond
	// MinCoarse is the shortest deadline kept coarse: nearer ones go to
	// the real connection, so that no deadline is late by more than a
	// tenth of its length.
	MinCoarse = 10 * Resolution
)

// expired is the deadline set on the real connection to expire it: any
// time in the past does.
var expired = time.Unix(1, 0)

// Listener accepts connections whose far deadlines are kept coarse.
// Its goroutine runs until it is closed and its last connection is.
type Listener struct {
	net.Listener

	epoch      time.Time
	resolution time.Duration
	minCoarse  time.Duration
	// now is the time since epoch at the last tick; a deadline is kept
	// coarse only when it is at least minCoarse after now.
	now atomic.Int64

	mu    sync.Mutex
	conns map[*Conn]struct{}
	// stopped says run returned (closed, no connections); an Accept that
	// was under way then starts it again.
	stopped bool

	done chan struct{}
	once sync.Once

	// timeouts are the HTTP/1 timeouts applied from connection states
	// (see WrapHTTP); all zero for Wrap. precise says one is shorter than
	// minCoarse, so that stamps read the clock (see stamp).
	timeouts Timeouts
	precise  bool
}

// Wrap returns a Listener for ln, with Resolution and MinCoarse, and
// starts its goroutine.
func Wrap(ln net.Listener) *Listener {
	return wrap(ln, Resolution, MinCoarse)
}

// wrap is Wrap with a resolution and minimum coarse deadline (tests use
// shorter ones).
func wrap(ln net.Listener, resolution, minCoarse time.Duration) *Listener {
	l := &Listener{
		Listener: ln, epoch: time.Now(), resolution: resolution, minCoarse: minCoarse,
		conns: map[*Conn]struct{}{}, done: make(chan struct{}),
	}
	go l.run()
	return l
}

// Accept waits for the next connection and returns it wrapped.
//
// # Errors
//
// The underlying listener's.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &Conn{Conn: c, l: l}
	if l.timeouts != (Timeouts{}) {
		cc.start = l.stamp()
		cc.phase.Store(phaseHeader)
		cc.stateDeadline(&cc.read, cc.start, l.timeouts.ReadHeader)
	}
	l.mu.Lock()
	l.conns[cc] = struct{}{}
	if l.stopped {
		l.stopped = false
		go l.run()
	}
	l.mu.Unlock()
	return cc, nil
}

// Close closes the listener. Accepted connections stay open, and their
// deadlines keep expiring: http.Server.Shutdown closes the listener first
// and then waits for the requests in flight, whose slow clients must still
// time out. The goroutine stops at its first tick after the last
// connection closes.
//
// # Errors
//
// The underlying listener's.
func (l *Listener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.done) })
	return err
}

// open reports how many accepted connections are not closed yet.
func (l *Listener) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// run expires deadlines every resolution until the listener is closed and
// has no connection left.
func (l *Listener) run() {
	t := time.NewTicker(l.resolution)
	defer t.Stop()
	var batch []*Conn
	for range t.C {
		now := time.Since(l.epoch)
		l.now.Store(int64(now))
		batch = batch[:0]
		l.mu.Lock()
		if len(l.conns) == 0 && l.closed() {
			l.stopped = true
			l.mu.Unlock()
			return
		}
		for c := range l.conns {
			if c.due(now) {
				batch = append(batch, c)
			}
		}
		l.mu.Unlock()
		for _, c := range batch {
			c.expire(now)
		}
		clear(batch)
	}
}

// closed reports whether Close was called.
func (l *Listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// forget removes c from the connections l expires.
func (l *Listener) forget(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// Conn is an accepted connection whose far deadlines are kept coarse.
type Conn struct {
	net.Conn
	l *Listener

	mu          sync.Mutex
	read, write side
	closed      bool
	// phase is where the connection is in the HTTP/1 exchange, for the
	// timeouts a WrapHTTP listener applies (see ConnState); phaseNone
	// otherwise. It is written under mu and read without it by Read.
	phase atomic.Uint32
	// start is the stamp of the current request's first bytes.
	start time.Duration
	// idleZeros counts net/http's zero read deadlines since StateIdle
	// (see zeroWhileWaiting).
	idleZeros uint8
}

// side is one direction's deadline.
type side struct {
	// due is the coarse deadline, as time since the listener's epoch; 0
	// when there is none.
	due time.Duration
	// real says a deadline is set on the real connection (near, past or
	// expired by the listener), to be cleared before a coarse one counts.
	real bool
	// state says the deadline is a timeout the listener applied from the
	// connection's state, which net/http's zero deadlines between
	// requests do not clear (see set).
	state bool
}

// SetDeadline sets both deadlines; see SetReadDeadline.
//
// # Errors
//
// The real connection's, for a deadline that goes to it.
func (c *Conn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// SetReadDeadline sets the read deadline: a zero t clears it, a t at least
// MinCoarse away is kept coarse, any other goes to the real connection.
//
// # Errors
//
// The real connection's, for a deadline that goes to it.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.set(&c.read, t)
}

// SetWriteDeadline sets the write deadline, as SetReadDeadline does.
//
// # Errors
//
// The real connection's, for a deadline that goes to it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.set(&c.write, t)
}

// set sets the deadline of one side.
//
// A zero t clears the deadline, except on the read side of a connection
// waiting for a request (phaseHeader or phaseIdle) whose deadline is a
// timeout from its state: with its own timeouts off, net/http sets zero
// read deadlines there to mean "no timeout of mine", which must not clear
// the listener's (the second after StateIdle starts a request: see
// zeroWhileWaiting).
func (c *Conn) set(s *side, t time.Time) error {
	var due time.Duration
	if !t.IsZero() {
		// No clock read: t.Sub uses the monotonic readings of t (from
		// time.Now().Add, as net/http makes them) and of the epoch.
		due = t.Sub(c.l.epoch)
		if due < time.Duration(c.l.now.Load())+c.l.minCoarse {
			due = 0 // near or past: the real connection's
		}
	}
	c.mu.Lock() // not deferred: net/http sets five deadlines or so a request
	err := c.setLocked(s, t, due)
	c.mu.Unlock()
	return err
}

// setLocked is set with c.mu held; due is t as a coarse deadline, or 0.
func (c *Conn) setLocked(s *side, t time.Time, due time.Duration) error {
	switch {
	case due > 0:
		s.due, s.state = due, false
		return c.dropReal(s)
	case t.IsZero():
		if s == &c.read && c.waiting() {
			c.zeroWhileWaiting() // may start a request: a timeout from its state
			if s.state {
				return nil
			}
		}
		s.due, s.state = 0, false
		return c.dropReal(s)
	default:
		s.due, s.real, s.state = 0, true, false
		return c.setReal(s, t)
	}
}

// setReal sets the deadline of s's side on the real connection.
func (c *Conn) setReal(s *side, t time.Time) error {
	if s == &c.read {
		return c.Conn.SetReadDeadline(t)
	}
	return c.Conn.SetWriteDeadline(t)
}

// dropReal clears the deadline on the real connection when s set one, so
// that s's coarse deadline, or none, is what counts; c.mu is held.
func (c *Conn) dropReal(s *side) error {
	if !s.real {
		return nil
	}
	s.real = false
	return c.setReal(s, time.Time{})
}

// due reports whether a coarse deadline of c passed by now; expire checks
// again, as a deadline may move in between.
func (c *Conn) due(now time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return passed(c.read, now) || passed(c.write, now)
}

// passed reports whether s's coarse deadline passed by now.
func passed(s side, now time.Duration) bool { return s.due != 0 && s.due <= now }

// expire sets a past deadline on the real connection for each side whose
// coarse deadline passed by now.
func (c *Conn) expire(now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if passed(c.read, now) {
		c.read = side{real: true, state: c.read.state}
		_ = c.Conn.SetReadDeadline(expired) // a closed connection fails harmlessly
	}
	if passed(c.write, now) {
		c.write = side{real: true, state: c.write.state}
		_ = c.Conn.SetWriteDeadline(expired)
	}
}

// Close closes the connection and forgets it.
//
// # Errors
//
// The real connection's.
func (c *Conn) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	c.mu.Unlock()
	if first {
		c.l.forget(c)
	}
	return c.Conn.Close()
}

// CloseWrite shuts down the writing side, when the real connection can
// (a *net.TCPConn can); net/http uses it to let a client read an error
// before the connection closes.
//
// # Errors
//
// The real connection's, or net.ErrClosed-like when it cannot.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("netdeadline: connection cannot close its writing side")
}

// ReadFrom lets io.Copy into the connection use the real connection's
// ReadFrom (sendfile or splice on a *net.TCPConn).
//
// # Errors
//
// The copy's.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
