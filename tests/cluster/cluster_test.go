package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// TestCluster runs three nodes on one database and checks what they share:
// sessions, usernames, plugin data and logouts. The subtests share the
// nodes, since starting them is the slow part.
func TestCluster(t *testing.T) {
	c := newCluster(t, pgtest.URL(t))
	nodes := c.start(t, 3)
	t.Run("SessionOnEveryNode", func(t *testing.T) { testSessions(t, c, nodes) })
	t.Run("UsernameUnique", func(t *testing.T) { testUsernameUnique(t, c, nodes) })
	t.Run("PluginData", func(t *testing.T) { testPluginData(t, c, nodes) })
	t.Run("LogoutEverywhere", func(t *testing.T) { testLogout(t, c, nodes) })
	t.Run("CounterExactlyOnce", func(t *testing.T) { testCounter(t, c, nodes) })
	t.Run("DataDirHoldsOnlyTheCache", func(t *testing.T) { testDataDir(t, nodes) })
}

// testDataDir checks that a cluster node keeps nothing but the compilation
// cache in its data directory: no keys file, no database.
func testDataDir(t *testing.T, nodes []*node) {
	for _, nd := range nodes {
		entries, err := os.ReadDir(nd.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "cache" {
				t.Errorf("%s's data directory holds %s; want only the cache", nd.name, e.Name())
			}
		}
	}
}

// testSessions signs up on one node and uses the session on every node.
func testSessions(t *testing.T, c *cluster, nodes []*node) {
	hc := client(1)
	tok := token(t, c.authenticate(t.Context(), hc, nodes[0], "cluster-device-0001", "ann"))
	var first string
	for _, nd := range nodes {
		a := userRPC(t.Context(), hc, nd, tok, "whoami", "")
		var who struct {
			UserID   string `json:"user_id"`
			Username string `json:"username"`
		}
		if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &who) != nil || who.Username != "ann" {
			t.Fatalf("whoami on %s = %d %q, want ann", nd.name, a.status, a.body)
		}
		if first == "" {
			first = who.UserID
		} else if who.UserID != first {
			t.Errorf("whoami on %s: user %s, want %s", nd.name, who.UserID, first)
		}
		acc := do(t.Context(), hc, http.MethodGet, nd.url+"/v2/account", "Bearer "+tok, "")
		if acc.status != http.StatusOK {
			t.Errorf("GET /v2/account on %s = %d %q", nd.name, acc.status, acc.body)
		}
	}
	// The same device signs in on another node: the same user, not a new one.
	again := c.authenticate(t.Context(), hc, nodes[2], "cluster-device-0001", "")
	var s struct{ Created bool }
	if again.status != http.StatusOK || json.Unmarshal([]byte(again.body), &s) != nil || s.Created {
		t.Errorf("sign-in on node2 = %d %q, want 200 with created false", again.status, again.body)
	}
}

// testUsernameUnique signs up several devices with one username at once,
// through every node: exactly one wins each round, and every other gets
// Nakama's ALREADY_EXISTS answer, as on one node.
func testUsernameUnique(t *testing.T, c *cluster, nodes []*node) {
	const rounds, perNode = 4, 3
	for r := range rounds {
		name := fmt.Sprintf("race%d", r)
		answers := make([]answer, len(nodes)*perNode)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hc := client(byte(10 + i)) // each its own address: no limiter in the way
				<-start
				answers[i] = c.authenticate(t.Context(), hc, nodes[i%len(nodes)], fmt.Sprintf("race-device-%d-%02d", r, i), name)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, a := range answers {
			switch {
			case a.status == http.StatusOK:
				won++
			case a.status == http.StatusConflict && a.code == 6 && a.message == "Username is already in use.":
			default:
				t.Errorf("round %d, request %d: %d %q (%v), want 200 or 409 code 6", r, i, a.status, a.body, a.err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d sign-ups of %q succeeded, want exactly 1", r, won, name)
		}
	}
}

// testPluginData writes with the kv plugin on one node and reads on the
// others.
func testPluginData(t *testing.T, c *cluster, nodes []*node) {
	hc := client(2)
	for i, nd := range nodes {
		key := fmt.Sprintf("from-%s", nd.name)
		if a := c.rpc(t.Context(), hc, nd, "kv_put", `{"key":"`+key+`","value":"v`+fmt.Sprint(i)+`"}`); a.status != http.StatusOK {
			t.Fatalf("kv_put on %s = %d %q", nd.name, a.status, a.body)
		}
		for _, other := range nodes {
			a := c.rpc(t.Context(), hc, other, "kv_get", `{"key":"`+key+`"}`)
			want := `{"key":"` + key + `","value":"v` + fmt.Sprint(i) + `"}`
			if a.status != http.StatusOK || a.body != want {
				t.Errorf("kv_get on %s of a key put on %s = %d %q, want %s", other.name, nd.name, a.status, a.body, want)
			}
		}
	}
}

// testLogout logs out on one node and polls the others until they refuse
// the session; the time it took is logged (the design aims at well under
// a second), and the bound is generous, for a busy machine.
func testLogout(t *testing.T, c *cluster, nodes []*node) {
	hc := client(3)
	tok := token(t, c.authenticate(t.Context(), hc, nodes[0], "logout-device-0001", "bob"))
	for _, nd := range nodes {
		if a := userRPC(t.Context(), hc, nd, tok, "whoami", ""); a.status != http.StatusOK {
			t.Fatalf("whoami on %s before logout = %d %q", nd.name, a.status, a.body)
		}
	}
	out := do(t.Context(), hc, http.MethodPost, nodes[1].url+"/v2/session/logout", "Bearer "+tok, `{"token":"`+tok+`"}`)
	if out.status != http.StatusOK {
		t.Fatalf("logout on node1 = %d %q", out.status, out.body)
	}
	loggedOut := time.Now()
	for _, nd := range []*node{nodes[0], nodes[2], nodes[1]} {
		for {
			a := userRPC(t.Context(), hc, nd, tok, "whoami", "")
			if a.status == http.StatusUnauthorized && a.code == 16 {
				t.Logf("%s refuses the session %s after the logout", nd.name, time.Since(loggedOut).Round(time.Millisecond))
				break
			}
			if a.status != http.StatusOK {
				t.Fatalf("whoami on %s after logout = %d %q, want 200 until refused with 401", nd.name, a.status, a.body)
			}
			if time.Since(loggedOut) > 30*time.Second {
				t.Fatalf("%s still accepts the session 30s after the logout on node1", nd.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
