package accounts

import (
	"container/list"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func newTestLimiter(cfg LimiterConfig, c *clock) *Limiter {
	l := NewLimiter(cfg)
	l.failures.now, l.signups.now = c.now, c.now
	return l
}

func TestLimiter(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	tests := []struct {
		name string
		run  func(t *testing.T, l *Limiter, c *clock)
	}{
		{"UnknownAllowed", func(t *testing.T, l *Limiter, _ *clock) {
			if !l.Allow(a) {
				t.Fatal("a client that never failed is refused")
			}
		}},
		{"AttemptsTakenBeforehand", func(t *testing.T, l *Limiter, _ *clock) {
			// Three attempts in flight at once spend the burst of 3; a
			// fourth is refused before any of them is known to fail.
			for i := range 3 {
				if !l.TakeAttempt(a) {
					t.Fatalf("attempt %d refused, burst is 3", i+1)
				}
			}
			if l.TakeAttempt(a) || l.Allow(a) {
				t.Fatal("a fourth attempt in flight is allowed")
			}
			// Two succeed and give theirs back; the third failed.
			l.RefundAttempt(a)
			l.RefundAttempt(a)
			for i := range 2 {
				if !l.TakeAttempt(a) {
					t.Fatalf("attempt %d after two refunds refused", i+1)
				}
			}
			if l.TakeAttempt(a) {
				t.Fatal("the failed attempt was given back")
			}
		}},
		{"RefundForgetsAFullBucket", func(t *testing.T, l *Limiter, _ *clock) {
			if !l.TakeAttempt(a) {
				t.Fatal("a fresh client is refused")
			}
			l.RefundAttempt(a)
			if n := len(l.failures.buckets); n != 0 {
				t.Fatalf("%d buckets kept after an attempt that did not fail, want 0", n)
			}
		}},
		{"BurstThenRefused", func(t *testing.T, l *Limiter, _ *clock) {
			for i := range 3 {
				if !l.Allow(a) {
					t.Fatalf("refused after %d failures, burst is 3", i)
				}
				l.Fail(a)
			}
			if l.Allow(a) {
				t.Fatal("allowed after 3 failures")
			}
			if !l.Allow(b) {
				t.Fatal("another client is refused")
			}
		}},
		{"Refill", func(t *testing.T, l *Limiter, c *clock) {
			for range 3 {
				l.Fail(a)
			}
			c.advance(9 * time.Second)
			if l.Allow(a) {
				t.Fatal("allowed before a token came back")
			}
			c.advance(time.Second)
			if !l.Allow(a) {
				t.Fatal("refused after a token came back")
			}
			l.Fail(a)
			if l.Allow(a) {
				t.Fatal("allowed a second failure with one token")
			}
		}},
		{"FullBucketForgotten", func(t *testing.T, l *Limiter, c *clock) {
			l.Fail(a)
			c.advance(time.Minute)
			if !l.Allow(a) || len(l.failures.buckets) != 0 {
				t.Fatalf("full bucket kept: %d buckets", len(l.failures.buckets))
			}
		}},
		{"IPv6Per64", func(t *testing.T, l *Limiter, _ *clock) {
			for i := range 3 {
				l.Fail(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1)))
			}
			if l.Allow(netip.MustParseAddr("2001:db8:1:2:ffff::1")) {
				t.Fatal("same /64 allowed")
			}
			if !l.Allow(netip.MustParseAddr("2001:db8:1:3::1")) {
				t.Fatal("another /64 refused")
			}
		}},
		{"IPv6NeighboursKeepTheirBudgets", func(t *testing.T, l *Limiter, _ *clock) {
			// /64s of one /48 are often unrelated customers of one
			// carrier: failures spread over many of them leave the
			// others' budgets whole. A shared budget per /48 let nine
			// /64s lock every other one out of the whole API (a review
			// of an earlier version; see RATIONALE.md).
			for i := range 9 {
				for range 3 {
					l.Fail(netip.MustParseAddr(fmt.Sprintf("2001:db8:7:%x::1", i)))
				}
			}
			neighbour := netip.MustParseAddr("2001:db8:7:ff::1")
			if !l.Allow(neighbour) || !l.TakeAttempt(neighbour) || !l.TakeSignup(neighbour) {
				t.Fatal("a /64 refused after other /64s of its /48 spent their budgets")
			}
		}},
		{"EmbeddedIPv4", func(t *testing.T, l *Limiter, _ *clock) {
			// IPv6 forms that carry an IPv4 client count as that IPv4
			// address: NAT64 (64:ff9b::/96), Teredo (2001::/32, the
			// client's address inverted in the last 32 bits) and 6to4
			// (2002::/16). As /64s, every IPv4 client behind a
			// translator, or of one Teredo server, was one client.
			for _, tc := range []struct{ attacker, victim, v4 string }{
				{"64:ff9b::c000:201", "64:ff9b::c633:6407", "192.0.2.1"},
				{"2001:0:c000:22d:0:f5a1:3fff:fdfe", "2001:0:c000:22d:0:f5a1:3400:8ef6", "192.0.2.1"},
				{"2002:c000:201::1", "2002:c633:6407::1", "192.0.2.1"},
			} {
				atk := netip.MustParseAddr(tc.attacker)
				for range 3 {
					l.Fail(atk)
				}
				if !l.Allow(netip.MustParseAddr(tc.victim)) {
					t.Fatalf("%s refused after %s (another IPv4 client) failed", tc.victim, tc.attacker)
				}
				if l.Allow(netip.MustParseAddr(tc.v4)) {
					t.Fatalf("%s allowed after %s, which carries it, failed", tc.v4, tc.attacker)
				}
				l.RefundAttempt(atk) // each case starts afresh for the next
				l.failures.buckets = map[netip.Addr]*list.Element{}
				l.failures.lru.Init()
			}
		}},
		{"MappedIPv4", func(t *testing.T, l *Limiter, _ *clock) {
			for range 3 {
				l.Fail(netip.MustParseAddr("::ffff:192.0.2.1"))
			}
			if l.Allow(a) {
				t.Fatal("mapped address not counted as its IPv4 address")
			}
		}},
		{"BoundedMemory", func(t *testing.T, l *Limiter, _ *clock) {
			for range 3 {
				l.Fail(a)
			}
			for i := range 10 {
				l.Fail(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
			}
			if len(l.failures.buckets) != 4 || l.failures.lru.Len() != 4 {
				t.Fatalf("%d buckets, %d in the list; want 4", len(l.failures.buckets), l.failures.lru.Len())
			}
			if !l.Allow(a) {
				t.Fatal("the least recent client was not forgotten")
			}
		}},
		{"SignupBurstThenRefused", func(t *testing.T, l *Limiter, _ *clock) {
			for i := range 2 {
				if !l.TakeSignup(a) {
					t.Fatalf("sign-up %d refused, burst is 2", i+1)
				}
			}
			if l.TakeSignup(a) {
				t.Fatal("a third sign-up allowed")
			}
			if !l.TakeSignup(b) {
				t.Fatal("another client's sign-up refused")
			}
			if !l.Allow(a) {
				t.Fatal("sign-ups spent the failure budget")
			}
		}},
		{"SignupRefund", func(t *testing.T, l *Limiter, _ *clock) {
			for range 2 {
				l.TakeSignup(a)
				l.RefundSignup(a)
			}
			l.RefundSignup(a) // never above the burst
			for i := range 2 {
				if !l.TakeSignup(a) {
					t.Fatalf("sign-up %d refused after refunds", i+1)
				}
			}
			if l.TakeSignup(a) {
				t.Fatal("a refund raised the budget above its burst")
			}
		}},
		{"SignupRefill", func(t *testing.T, l *Limiter, c *clock) {
			l.TakeSignup(a)
			l.TakeSignup(a)
			c.advance(59 * time.Second)
			if l.TakeSignup(a) {
				t.Fatal("allowed before a sign-up came back")
			}
			c.advance(time.Second)
			if !l.TakeSignup(a) {
				t.Fatal("refused after a sign-up came back")
			}
		}},
		{"FailuresKeepSignups", func(t *testing.T, l *Limiter, _ *clock) {
			for range 3 {
				l.Fail(a)
			}
			if !l.TakeSignup(a) {
				t.Fatal("failures spent the sign-up budget")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			cfg := LimiterConfig{Burst: 3, Every: 10 * time.Second, SignupBurst: 2, SignupEvery: time.Minute, MaxClients: 4}
			tt.run(t, newTestLimiter(cfg, c), c)
		})
	}
}

// TestLimiter_concurrent hammers the limiter under -race.
func TestLimiter_concurrent(t *testing.T) {
	l := NewLimiter(LimiterConfig{MaxClients: 8})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				addr := netip.AddrFrom4([4]byte{203, 0, 113, byte(g*16 + i%16)})
				l.Allow(addr)
				l.Fail(addr)
				if l.TakeSignup(addr) && i%2 == 0 {
					l.RefundSignup(addr)
				}
			}
		}()
	}
	wg.Wait()
	if n := l.failures.lru.Len(); n > 8 || n != len(l.failures.buckets) {
		t.Fatalf("%d in the list, %d buckets; want at most 8, equal", n, len(l.failures.buckets))
	}
}
