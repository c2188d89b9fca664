package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/pluginstore"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// tcpProxy forwards connections on a loopback port to target until cut,
// which closes the listener and every connection: the database "goes
// away" for whoever connects through it.
type tcpProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestStoreAdapter_unavailable: when the plugin store's database goes
// away, the host sees host.ErrStoreUnavailable (which the admin API
// answers with 503, code 14), and a missing plugin host.ErrNoPlugin.
func TestStoreAdapter_unavailable(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	s, err := pluginstore.Open(context.Background(), pluginstore.Config{URL: u.String(), Schema: pg.OwnSchema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := hostStore(s)
	ctx := context.Background()
	if _, err := a.Get(ctx, "none"); !errors.Is(err, host.ErrNoPlugin) {
		t.Fatalf("Get of a missing plugin = %v, want ErrNoPlugin", err)
	}
	if err := a.Put(ctx, 5, nil); !errors.Is(err, host.ErrStoreChanged) {
		t.Fatalf("Put at a stale generation = %v, want ErrStoreChanged", err)
	}
	proxy.cut()
	if _, _, err := a.List(ctx); !errors.Is(err, host.ErrStoreUnavailable) {
		t.Fatalf("List with the database away = %v, want ErrStoreUnavailable", err)
	}
	if err := a.Delete(ctx, "x"); !errors.Is(err, host.ErrStoreUnavailable) {
		t.Fatalf("Delete with the database away = %v, want ErrStoreUnavailable", err)
	}
}
