package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
	"github.com/warden-rpc/warden/storage"
)

var (
	testEncKey     = []byte("test-encryption-key")
	testRefreshKey = []byte("test-refresh-key")
)

// clock is a settable time for tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// openDB opens a real SQLite database in a temporary directory.
func openDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "warden.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newService returns a Service on db with the test keys, the cheapest
// bcrypt cost and a clock the test controls.
func newService(t *testing.T, db Store, c *clock) *Service {
	t.Helper()
	s, err := New(context.Background(), Config{
		DB: db, EncryptionKey: testEncKey, RefreshKey: testRefreshKey,
		BcryptCost: bcrypt.MinCost, Logger: zerolog.New(zerolog.NewTestWriter(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		s.now = c.now
		if err := s.loadRevocations(context.Background()); err != nil { // prune as of the test's clock
			t.Fatal(err)
		}
	}
	return s
}

// newClock returns a clock at a fixed, recent time.
func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

// authenticate authenticates c and fails the test on error.
func authenticate(t *testing.T, s *Service, c Credentials) Session {
	t.Helper()
	sess, err := s.Authenticate(context.Background(), c)
	if err != nil {
		t.Fatalf("Authenticate(%+v): %v", c, err)
	}
	return sess
}

// claims verifies tok with key at the service's time.
func claims(t *testing.T, s *Service, key []byte, tok string) session.Claims {
	t.Helper()
	c, err := session.Verify(key, tok, s.now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

// wantError checks that err is an *Error with code and msg.
func wantError(t *testing.T, err error, code abi.Code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Msg != msg {
		t.Fatalf("error = %v, want *Error code %d %q", err, code, msg)
	}
}
