package console

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// clientFrom returns a client of f whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), so that the console
// sees, and limits, another client address.
func (f *fixture) clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// floodFailedSignIns makes n failed sign-ins, each from its own loopback
// address (127.0.1.x), with the user name the attacker chooses, as a
// client with many addresses can: the per-address limiter lets each
// through.
func (f *fixture) floodFailedSignIns(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		cl := f.clientFrom(t, fmt.Sprintf("127.0.1.%d", i+1))
		body := fmt.Sprintf(`{"user":"ops-%d","password":"guess"}`, i)
		if s, b, _ := f.send(t, cl, "POST", "api/signin", body, f.srv.URL, ""); s != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d %s, want 401", i, s, b)
		}
		cl.CloseIdleConnections()
	}
}

// TestConsole_auditFloodKeepsChanges: an operator's upload stays on the
// audit page's default view after 60+ failed sign-ins from many
// addresses, which used to push it off the latest 50 entries.
func TestConsole_auditFloodKeepsChanges(t *testing.T) {
	f := newFixture(t, false)
	cl := f.client(t)
	tok := f.signIn(t, cl)
	if s, b, _ := f.send(t, cl, "PUT", "api/plugins/mine", string(echoWasm(t)), f.srv.URL, tok); s != http.StatusOK {
		t.Fatalf("deploy: %d %s", s, b)
	}
	f.floodFailedSignIns(t, 65)
	s, body, _ := f.send(t, cl, "GET", "api/audit", "", "", "")
	if s != http.StatusOK || !strings.Contains(body, `"action":"plugins.deploy"`) {
		t.Fatalf("audit page, default view, after a flood of failed sign-ins: %d, the upload is missing:\n%.600s", s, body)
	}
}
