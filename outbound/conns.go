package outbound

import (
	"context"
	"net"
	"sync"
	"time"
)

// idleSweep is how often a dial that waits for a connection slot closes
// the plugin's idle connections again: a connection whose request ends
// while the dial waits becomes idle after the first sweep.
const idleSweep = 50 * time.Millisecond

// acquireConn takes one of the plugin's connection slots for a dial,
// waiting until ctx (the dial's, which ends with its request) ends. When
// none is free it closes the plugin's idle connections, whose slots come
// back as they close: the bound counts every open connection, idle or
// busy, HTTP/1.1 or HTTP/2, whatever host spelling opened it, which the
// transport's own pools (per spelling, and HTTP/2 apart from MaxIdleConns)
// do not.
func (c *Client) acquireConn(ctx context.Context) error {
	select {
	case c.conns <- struct{}{}:
		return nil
	default:
	}
	tick := time.NewTicker(idleSweep)
	defer tick.Stop()
	for {
		c.tr.CloseIdleConnections()
		select {
		case c.conns <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// countedConn is a connection holding one of its plugin's slots until it
// is closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and gives its slot back, once.
func (cc *countedConn) Close() error {
	err := cc.Conn.Close()
	cc.once.Do(cc.release)
	return err
}

// counted wraps conn so that closing it releases a slot taken by
// acquireConn.
func (c *Client) counted(conn net.Conn) net.Conn {
	return &countedConn{Conn: conn, release: func() { <-c.conns }}
}
