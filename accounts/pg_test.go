package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
	"github.com/warden-rpc/warden/storage/pg"
	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// Guards: both engines fit the boundary.
var (
	_ Store = (*storage.DB)(nil)
	_ Store = (*pg.Own)(nil)
	_ Feed  = (*pg.Own)(nil)
)

// newNode returns a Service on Warden's tables in the PostgreSQL database
// at url, as one cluster node has it, listening on feed until the test
// ends; feed nil listens on the Store itself. It waits until the node
// hears the others.
func newNode(t *testing.T, url string, feed Feed) *Service {
	t.Helper()
	o, err := pg.OpenOwn(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if feed == nil {
		feed = o
	}
	s, err := New(context.Background(), Config{
		DB: o, Feed: feed, EncryptionKey: testEncKey, RefreshKey: testRefreshKey,
		BcryptCost: bcrypt.MinCost, Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Listen(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = o.Close() })
	return s
}

// waitHearing waits until s hears the other nodes.
func waitHearing(t *testing.T, s *Service) {
	t.Helper()
	eventually(t, "the node hears the others", func() bool { return s.hearing.Load() })
}

// eventually polls cond, failing after a generous minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPG_accounts runs the service's main paths on PostgreSQL: the same
// code and SQL as on SQLite.
func TestPG_accounts(t *testing.T) {
	s := newNode(t, pgtest.URL(t), nil)
	ctx := context.Background()
	dev := authenticate(t, s, Credentials{Kind: KindDevice, ID: "device-000001", Username: "ann", Create: true})
	again := authenticate(t, s, Credentials{Kind: KindDevice, ID: "device-000001", Create: true})
	if !dev.Created || again.Created {
		t.Errorf("created = %v then %v, want true then false", dev.Created, again.Created)
	}
	_, err := s.Authenticate(ctx, Credentials{Kind: KindDevice, ID: "device-000002", Username: "ann", Create: true})
	wantError(t, err, abi.CodeAlreadyExists, msgUsernameInUse)
	authenticate(t, s, Credentials{Kind: KindEmail, Email: "bob@example.com", Password: "password1", Username: "bob", Create: true})
	_, err = s.Authenticate(ctx, Credentials{Kind: KindEmail, Email: "bob@example.com", Password: "wrong-pass", Create: true})
	wantError(t, err, abi.CodeUnauthenticated, msgInvalidCredentials)
	c := claims(t, s, testEncKey, dev.Token)
	a, err := s.Account(ctx, c.UserID)
	if err != nil || a.Username != "ann" || len(a.DeviceIDs) != 1 || a.DeviceIDs[0] != "device-000001" {
		t.Fatalf("Account = %+v, %v", a, err)
	}
	if _, err := s.Refresh(ctx, dev.RefreshToken, nil); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if err := s.Logout(ctx, c.UserID, dev.Token, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SessionValid(ctx, c); !errors.Is(err, ErrRevoked) {
		t.Errorf("SessionValid after logout = %v, want ErrRevoked", err)
	}
}

// TestPG_concurrentSignups signs up on two nodes at once: one username goes
// to one user, the others get Nakama's 409; one device is one user, found
// by every request that did not create it.
func TestPG_concurrentSignups(t *testing.T) {
	url := pgtest.URL(t)
	nodes := []*Service{newNode(t, url, nil), newNode(t, url, nil)}
	const n = 16
	run := func(cred func(i int) Credentials) ([]Session, []error) {
		sess, errs := make([]Session, n), make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sess[i], errs[i] = nodes[i%2].Authenticate(context.Background(), cred(i))
			}()
		}
		close(start)
		wg.Wait()
		return sess, errs
	}
	_, errs := run(func(i int) Credentials {
		return Credentials{Kind: KindDevice, ID: fmt.Sprintf("race-device-%03d", i), Username: "taken", Create: true}
	})
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantError(t, err, abi.CodeAlreadyExists, msgUsernameInUse)
	}
	if won != 1 {
		t.Errorf("%d sign-ups of one username succeeded, want 1", won)
	}
	sess, errs := run(func(int) Credentials {
		return Credentials{Kind: KindCustom, ID: "same-custom-id", Create: true}
	})
	created, users := 0, map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if sess[i].Created {
			created++
		}
		users[claims(t, nodes[0], testEncKey, sess[i].Token).UserID] = true
	}
	if created != 1 || len(users) != 1 {
		t.Errorf("one custom ID: %d created, %d users; want 1 and 1", created, len(users))
	}
}

// TestPG_logoutHeard logs out on one node: the other refuses the session
// once it hears the notification.
func TestPG_logoutHeard(t *testing.T) {
	url := pgtest.URL(t)
	a, b := newNode(t, url, nil), newNode(t, url, nil)
	waitHearing(t, b)
	sess := authenticate(t, a, Credentials{Kind: KindDevice, ID: "device-000001", Create: true})
	c := claims(t, a, testEncKey, sess.Token)
	if err := b.SessionValid(context.Background(), c); err != nil {
		t.Fatalf("SessionValid on b before logout: %v", err)
	}
	if err := a.Logout(context.Background(), c.UserID, "", ""); err != nil { // every token of the user
		t.Fatal(err)
	}
	eventually(t, "b refuses the session", func() bool {
		return errors.Is(b.SessionValid(context.Background(), c), ErrRevoked)
	})
}

// deafFeed is a Feed whose node never hears the others, as a node whose
// listening connection cannot be made.
type deafFeed struct{ Feed }

func (deafFeed) Listen(ctx context.Context, _ string, _ storage.Listener) { <-ctx.Done() }

// TestPG_deafNodeAsksTheDatabase checks that a node that does not hear
// the others does not trust its memory: it refuses a session logged out on
// another node at once, from the database.
func TestPG_deafNodeAsksTheDatabase(t *testing.T) {
	url := pgtest.URL(t)
	a := newNode(t, url, nil)
	o, err := pg.OpenOwn(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	deaf := newNode(t, url, deafFeed{o})
	sess := authenticate(t, a, Credentials{Kind: KindDevice, ID: "device-000001", Create: true})
	c := claims(t, a, testEncKey, sess.Token)
	if err := deaf.SessionValid(context.Background(), c); err != nil {
		t.Fatalf("SessionValid before logout: %v", err)
	}
	if err := a.Logout(context.Background(), c.UserID, sess.Token, ""); err != nil {
		t.Fatal(err)
	}
	if err := deaf.SessionValid(context.Background(), c); !errors.Is(err, ErrRevoked) {
		t.Errorf("SessionValid on a deaf node right after the logout = %v, want ErrRevoked", err)
	}
	if _, err := deaf.Refresh(context.Background(), sess.RefreshToken, nil); err == nil {
		t.Error("Refresh on a deaf node accepted a logged out session")
	}
	deaf.mu.RLock()
	inMemory := len(deaf.revoked.tokens)
	deaf.mu.RUnlock()
	if inMemory != 0 {
		t.Errorf("the deaf node holds %d revocations in memory; the test needs it to hold none", inMemory)
	}
}

// TestPG_loginRightAfterLogoutElsewhere logs a user out of every session on
// one node and back in on another in the same second, before the second
// node heard of the logout: the new session must be valid everywhere, not
// covered by the logout it followed.
func TestPG_loginRightAfterLogoutElsewhere(t *testing.T) {
	url := pgtest.URL(t)
	a := newNode(t, url, nil)
	o, err := pg.OpenOwn(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b := newNode(t, url, deafFeed{o}) // has not heard of the logout
	c := newClock()
	a.now, b.now = c.now, c.now
	cred := Credentials{Kind: KindCustom, ID: "custom-000001", Create: true}
	first := authenticate(t, a, cred)
	if err := a.Logout(context.Background(), claims(t, a, testEncKey, first.Token).UserID, "", ""); err != nil {
		t.Fatal(err)
	}
	again := authenticate(t, b, cred) // the same second
	cl := claims(t, b, testEncKey, again.Token)
	for name, s := range map[string]*Service{"a": a, "b": b} {
		if err := s.SessionValid(context.Background(), cl); err != nil {
			t.Errorf("node %s: the session made after the logout is refused: %v", name, err)
		}
	}
}

// silentFeed is a Feed that listens but never delivers a notification, as
// if every one were lost: only the poll can tell the node of a logout.
type silentFeed struct{ Feed }

func (silentFeed) Listen(ctx context.Context, _ string, l storage.Listener) {
	if err := l.Sync(); err != nil {
		l.Lost(err)
	}
	<-ctx.Done()
}

// TestPG_pollFallback checks the poll behind the notifications: a node
// that hears none still refuses a session logged out elsewhere, once it
// polls.
func TestPG_pollFallback(t *testing.T) {
	url := pgtest.URL(t)
	a := newNode(t, url, nil)
	o, err := pg.OpenOwn(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := New(context.Background(), Config{
		DB: o, Feed: silentFeed{o}, PollInterval: 50 * time.Millisecond, EncryptionKey: testEncKey, RefreshKey: testRefreshKey,
		BcryptCost: bcrypt.MinCost, Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Listen(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitHearing(t, b)
	sess := authenticate(t, a, Credentials{Kind: KindDevice, ID: "device-000001", Create: true})
	c := claims(t, a, testEncKey, sess.Token)
	if err := a.Logout(context.Background(), c.UserID, sess.Token, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b refuses the session after a poll", func() bool {
		return errors.Is(b.SessionValid(context.Background(), c), ErrRevoked)
	})
}
