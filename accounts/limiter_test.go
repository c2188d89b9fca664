package accounts

import (
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
		{"IPv6SiteShare", func(t *testing.T, l *Limiter, c *clock) {
			// A /48 holds 65,536 /64s: spread over them, failures and
			// sign-ups still stop at siteShare clients' budgets.
			site := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("2001:db8:7:%x::1", i)) }
			fails, signups := 0, 0
			for i := range 10 * siteShare {
				if l.TakeAttempt(site(i)) {
					fails++
				}
				if l.TakeSignup(site(i)) {
					signups++
				}
			}
			if fails != 3*siteShare || signups != 2*siteShare {
				t.Fatalf("a /48's /64s made %d failed attempts and %d sign-ups, want %d and %d", fails, signups, 3*siteShare, 2*siteShare)
			}
			if l.Allow(site(10*siteShare+1)) || l.TakeSignup(site(10*siteShare+1)) {
				t.Fatal("a fresh /64 of a spent /48 allowed")
			}
			other := netip.MustParseAddr("2001:db8:8::1")
			if !l.Allow(other) || !l.TakeAttempt(other) || !l.TakeSignup(other) {
				t.Fatal("another /48 refused")
			}
			// The site's budget comes back siteShare times as fast as a
			// client's: one more attempt after a client's interval over
			// siteShare.
			c.advance(10 * time.Second / siteShare)
			if !l.TakeAttempt(site(10*siteShare+2)) || l.TakeAttempt(site(10*siteShare+3)) {
				t.Fatal("the /48's budget did not come back one attempt at a time")
			}
		}},
		{"IPv6SiteRefund", func(t *testing.T, l *Limiter, _ *clock) {
			// Attempts that do not fail give the site's token back too.
			for i := range 10 * siteShare {
				a := netip.MustParseAddr(fmt.Sprintf("2001:db8:9:%x::1", i))
				if !l.TakeAttempt(a) {
					t.Fatalf("attempt %d refused though every one was refunded", i+1)
				}
				l.RefundAttempt(a)
			}
			if n := len(l.failures.buckets); n != 0 {
				t.Fatalf("%d buckets kept after attempts that did not fail, want 0", n)
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
