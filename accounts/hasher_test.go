package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
)

// newTestHasher returns a hasher of the cheapest cost with cfg's bounds.
func newTestHasher(workers, queue int, wait time.Duration) *hasher {
	return newHasher(Config{BcryptCost: bcrypt.MinCost, HashWorkers: workers, HashQueue: queue, HashWait: wait})
}

// hold occupies n of h's workers until the returned function is called,
// which waits for them to finish.
func hold(t *testing.T, h *hasher, n int) (release func()) {
	t.Helper()
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, n)
	for range n {
		go func() {
			done <- h.run(context.Background(), netip.Addr{}, func() error { started <- struct{}{}; <-stop; return nil })
		}()
		<-started
	}
	return func() {
		close(stop)
		for range n {
			if err := <-done; err != nil {
				t.Errorf("held run: %v", err)
			}
		}
	}
}

// waitQueued waits until n requests are in h, running or waiting.
func waitQueued(h *hasher, n int) {
	for len(h.admit) < n {
		runtime.Gosched()
	}
}

// wantBusy checks that err is the pool's refusal with cause.
func wantBusy(t *testing.T, err, cause error) {
	t.Helper()
	wantError(t, err, abi.CodeUnavailable, msgServerBusy)
	if !errors.Is(err, cause) {
		t.Fatalf("error %v, want cause %v", err, cause)
	}
}

func TestHasher(t *testing.T) {
	t.Run("QueueFullRefusedAtOnce", func(t *testing.T) {
		h := newTestHasher(2, 3, time.Hour)
		release := hold(t, h, 2)
		waiting := make(chan error, 3)
		for range 3 {
			go func() { _, err := h.hash(context.Background(), netip.Addr{}, "password"); waiting <- err }()
		}
		waitQueued(h, 5)
		_, err := h.hash(context.Background(), netip.Addr{}, "password")
		wantBusy(t, err, errHashQueueFull)
		release()
		for range 3 {
			if err := <-waiting; err != nil {
				t.Fatalf("a queued hash failed: %v", err)
			}
		}
		if st := h.stats(); st.Peak != 2 || st.Busy != 0 || st.Refused != 1 {
			t.Fatalf("stats %+v, want peak 2, none busy, 1 refused", st)
		}
	})
	t.Run("WaitBounded", func(t *testing.T) {
		h := newTestHasher(1, 1, time.Millisecond)
		defer hold(t, h, 1)()
		wantBusy(t, h.compare(context.Background(), netip.Addr{}, nil, "password"), errHashWait)
	})
	t.Run("ContextWhileWaiting", func(t *testing.T) {
		h := newTestHasher(1, 1, time.Hour)
		defer hold(t, h, 1)()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := h.hash(ctx, netip.Addr{}, "password"); errc <- err }()
		waitQueued(h, 2)
		cancel()
		wantBusy(t, <-errc, context.Canceled)
		if len(h.admit) != 1 {
			t.Fatalf("%d in the pool after the wait ended, want the held one", len(h.admit))
		}
	})
	t.Run("HashThenCompare", func(t *testing.T) {
		h := newTestHasher(1, 0, time.Hour)
		hash, err := h.hash(context.Background(), netip.Addr{}, "password")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.compare(context.Background(), netip.Addr{}, hash, "password"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if err := h.compare(context.Background(), netip.Addr{}, hash, "wrong-password"); !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			t.Fatalf("wrong password: %v", err)
		}
	})
}

// TestService_HashBusy checks that a sign-up and a login that cannot get a
// hash worker in time are refused with 503 code 14, not as a failed login
// or an internal error, and that the defaults bound the pool.
func TestService_HashBusy(t *testing.T) {
	s := newService(t, openDB(t), nil)
	if st := s.HashStats(); st.Workers != DefaultHashWorkers() || cap(s.hasher.admit) != st.Workers*(1+DefaultHashQueuePerWorker) {
		t.Fatalf("defaults: %+v, pool of %d", st, cap(s.hasher.admit))
	}
	c := Credentials{Kind: KindEmail, Email: "busy@example.com", Password: "password", Create: true}
	authenticate(t, s, c)
	s.hasher = newTestHasher(1, 1, time.Millisecond)
	defer hold(t, s.hasher, 1)()
	for _, c := range []Credentials{c, {Kind: KindEmail, Email: "new@example.com", Password: "password", Create: true}} {
		_, err := s.Authenticate(context.Background(), c)
		wantBusy(t, err, errHashWait)
	}
}

// TestService_ConflictCostsNoHash checks that an email sign-up whose
// username is taken is refused before its password is hashed, so that 409
// probes cost no bcrypt.
func TestService_ConflictCostsNoHash(t *testing.T) {
	s := newService(t, openDB(t), nil)
	authenticate(t, s, Credentials{Kind: KindCustom, ID: "owner-of-taken", Username: "taken", Create: true})
	_, err := s.Authenticate(context.Background(), Credentials{
		Kind: KindEmail, Email: "prober@example.com", Password: "password", Username: "taken", Create: true,
	})
	wantError(t, err, abi.CodeAlreadyExists, msgUsernameInUse)
	if st := s.HashStats(); st.Peak != 0 {
		t.Fatalf("a hash ran for a taken username: %+v", st)
	}
}

// TestHasher_shareOfAClient checks that one client cannot fill the pool:
// it may have HashPerClient requests in it, running or waiting, and its
// others are refused at once, so another client's request still gets in
// and runs. A client with its own account could otherwise keep every
// worker and the whole queue busy with right passwords, which cost no
// failure, and every other login and sign-up would be refused.
func TestHasher_shareOfAClient(t *testing.T) {
	h := newHasher(Config{BcryptCost: bcrypt.MinCost, HashWorkers: 1, HashQueue: 8, HashWait: time.Hour, HashPerClient: 2})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	stop := make(chan struct{})
	results := make(chan error, 20)
	for range 20 {
		go func() { results <- h.run(context.Background(), a, func() error { <-stop; return nil }) }()
	}
	refused := 0
	for refused+len(h.admit) < 20 { // every request of a admitted or refused
		select {
		case err := <-results:
			wantBusy(t, err, errHashClientBusy)
			refused++
		default:
			runtime.Gosched()
		}
	}
	if refused != 18 {
		t.Fatalf("%d of a's 20 requests refused, want 18 (2 in the pool)", refused)
	}
	other := make(chan error, 1)
	go func() { other <- h.run(context.Background(), b, func() error { return nil }) }()
	waitQueued(h, 3)
	close(stop)
	if err := <-other; err != nil {
		t.Fatalf("another client's request, with a's two in the pool: %v", err)
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("a's admitted request: %v", err)
		}
	}
	if len(h.clients) != 0 {
		t.Fatalf("%d clients still counted after their requests", len(h.clients))
	}
}

// TestHasher_neighboursOfASite: /64s of one /48, each within its share,
// do not take a neighbour /64's place while the pool has room. A cap per
// /48 let two /64s logging in to their own accounts refuse every other
// /64 of the site (a review of an earlier version; see RATIONALE.md).
func TestHasher_neighboursOfASite(t *testing.T) {
	h := newHasher(Config{BcryptCost: bcrypt.MinCost, HashWorkers: 1, HashQueue: 8, HashWait: time.Hour, HashPerClient: 2})
	stop := make(chan struct{})
	results := make(chan error, 4)
	for i := range 4 {
		a := netip.MustParseAddr(fmt.Sprintf("2001:db8:5:%x::1", i/2))
		go func() { results <- h.run(context.Background(), a, func() error { <-stop; return nil }) }()
	}
	waitQueued(h, 4)
	neighbour := make(chan error, 1)
	go func() {
		neighbour <- h.run(context.Background(), netip.MustParseAddr("2001:db8:5:ff::1"), func() error { return nil })
	}()
	for len(h.admit) < 5 { // admitted, or refused at once
		select {
		case err := <-neighbour:
			t.Fatalf("a neighbour /64's request, with room in the pool: %v", err)
		default:
			runtime.Gosched()
		}
	}
	close(stop)
	if err := <-neighbour; err != nil {
		t.Fatalf("a neighbour /64's request, with room in the pool: %v", err)
	}
	for range 4 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}
