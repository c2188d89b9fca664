package main

import (
	"strings"
	"testing"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// TestCluster_console: the web console of a cluster node signs in with the
// configured password, lists the store's plugins, and a deploy through it
// reaches every node, audited in the shared database.
func TestCluster_console(t *testing.T) {
	c := &cluster{bin: buildServer(t), url: pgtest.URL(t)}
	v1, v2 := readFixture(t, "host/testdata/reload/ver_v1.wasm"), readFixture(t, "host/testdata/reload/ver_v2.wasm")
	nodes := []*clusterNode{c.start(t, "n1", folderWith(t, map[string][]byte{"ver.wasm": v1}))}
	nodes = append(nodes, c.start(t, "n2", t.TempDir()))
	awaitAll(t, nodes, 200, "v1")

	s := &server{URL: nodes[1].base}
	cl, csrf := consoleClient(t, s, "cluster-console-password")
	if status, body := consoleDo(t, cl, s, "GET", "plugins", "", ""); status != 200 || !strings.Contains(body, `"ver"`) || !strings.Contains(body, "store:/ver.wasm") {
		t.Fatalf("console plugins on n2: %d %s", status, body)
	}
	if status, body := consoleDo(t, cl, s, "PUT", "plugins/ver", string(v2), csrf); status != 200 {
		t.Fatalf("console deploy on n2: %d %s", status, body)
	}
	awaitAll(t, nodes, 200, "v2")
	// The audit log is Warden's own table in PostgreSQL: another node's
	// console reads the entry.
	s1 := &server{URL: nodes[0].base}
	cl1, _ := consoleClient(t, s1, "cluster-console-password")
	if status, body := consoleDo(t, cl1, s1, "GET", "audit", "", ""); status != 200 || !strings.Contains(body, "plugins.deploy") {
		t.Fatalf("console audit on n1: %d %s", status, body)
	}
}
