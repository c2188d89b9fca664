package accounts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

func TestService_Authenticate(t *testing.T) {
	s := newService(t, openDB(t), nil)
	ctx := context.Background()
	alice := authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-alice", Username: "alice", Create: true})
	aliceID := claims(t, s, testEncKey, alice.Token).UserID
	authenticate(t, s, Credentials{Kind: KindDevice, ID: "device-0123456789", Username: "dev", Create: true})
	authenticate(t, s, Credentials{Kind: KindEmail, Email: "Mail@Example.com", Password: "password1", Username: "mail", Create: true})
	authenticate(t, s, Credentials{Kind: KindCustom, ID: "custom-nopass", Username: "nopass", Create: true})

	tests := []struct {
		name        string
		c           Credentials
		wantCode    abi.Code // 0 for success
		wantMsg     string
		wantCreated bool
		wantUser    string // username expected in the token
	}{
		{"CustomExisting", Credentials{Kind: KindCustom, ID: "custom-alice", Username: "ignored", Create: true}, 0, "", false, "alice"},
		{"CustomExistingNoCreate", Credentials{Kind: KindCustom, ID: "custom-alice"}, 0, "", false, "alice"},
		{"CustomNew", Credentials{Kind: KindCustom, ID: "custom-bob", Username: "bob", Create: true}, 0, "", true, "bob"},
		{"ErrCustomNotFound", Credentials{Kind: KindCustom, ID: "custom-nobody"}, abi.CodeNotFound, msgUserNotFound, false, ""},
		{"ErrUsernameTaken", Credentials{Kind: KindCustom, ID: "custom-carol", Username: "alice", Create: true}, abi.CodeAlreadyExists, msgUsernameInUse, false, ""},
		{"ErrInvalid", Credentials{Kind: KindCustom, ID: "short"}, abi.CodeInvalidArgument, msgCustomIDLength, false, ""},
		{"DeviceExisting", Credentials{Kind: KindDevice, ID: "device-0123456789", Create: true}, 0, "", false, "dev"},
		{"DeviceNew", Credentials{Kind: KindDevice, ID: "device-new-0123456789", Username: "dev2", Create: true}, 0, "", true, "dev2"},
		{"ErrDeviceNotFound", Credentials{Kind: KindDevice, ID: "device-nobody-0123"}, abi.CodeNotFound, msgUserNotFound, false, ""},
		{"EmailLogin", Credentials{Kind: KindEmail, Email: "mail@example.COM", Password: "password1"}, 0, "", false, "mail"},
		{"ErrEmailWrongPassword", Credentials{Kind: KindEmail, Email: "mail@example.com", Password: "password2", Create: true}, abi.CodeUnauthenticated, msgInvalidCredentials, false, ""},
		{"ErrEmailNotFound", Credentials{Kind: KindEmail, Email: "nobody@example.com", Password: "password1"}, abi.CodeNotFound, msgUserNotFound, false, ""},
		{"UsernameLogin", Credentials{Kind: KindEmail, Username: "mail", Password: "password1", Create: true}, 0, "", false, "mail"},
		{"ErrUsernameLoginWrongPassword", Credentials{Kind: KindEmail, Username: "mail", Password: "password2"}, abi.CodeUnauthenticated, msgInvalidCredentials, false, ""},
		{"ErrUsernameLoginNoPassword", Credentials{Kind: KindEmail, Username: "nopass", Password: "password1"}, abi.CodeUnauthenticated, msgInvalidCredentials, false, ""},
		{"ErrUsernameLoginUnknown", Credentials{Kind: KindEmail, Username: "nobody", Password: "password1", Create: true}, abi.CodeNotFound, msgUserNotFound, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := s.Authenticate(ctx, tt.c)
			if tt.wantCode != 0 {
				wantError(t, err, tt.wantCode, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := claims(t, s, testEncKey, sess.Token)
			if sess.Created != tt.wantCreated || c.Username != tt.wantUser {
				t.Fatalf("created %v username %q, want %v %q", sess.Created, c.Username, tt.wantCreated, tt.wantUser)
			}
			if tt.name == "CustomExisting" && c.UserID != aliceID {
				t.Fatalf("user ID %s, want alice's %s", c.UserID, aliceID)
			}
		})
	}
}

// TestService_AuthenticatePasswordHashed checks that the password is stored
// as a bcrypt hash, never in plain text.
func TestService_AuthenticatePasswordHashed(t *testing.T) {
	db := openDB(t)
	s := newService(t, db, nil)
	authenticate(t, s, Credentials{Kind: KindEmail, Email: "hash@example.com", Password: "s3cret-password", Create: true})
	var stored []byte
	if err := db.Writer().QueryRow("SELECT password FROM warden_users WHERE email = ?", "hash@example.com").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), "s3cret") || bcrypt.CompareHashAndPassword(stored, []byte("s3cret-password")) != nil {
		t.Fatalf("stored password %q is not a bcrypt hash of the password", stored)
	}
}

// TestService_AuthenticateConcurrent creates the same account from many
// goroutines: exactly one creates it, and all get the same user.
func TestService_AuthenticateConcurrent(t *testing.T) {
	s := newService(t, openDB(t), nil)
	const n = 16
	var wg sync.WaitGroup
	results := make(chan Session, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := s.Authenticate(context.Background(), Credentials{Kind: KindDevice, ID: "device-race-0123", Create: true})
			if err != nil {
				t.Error(err)
				return
			}
			results <- sess
		}()
	}
	wg.Wait()
	close(results)
	created, users := 0, map[string]bool{}
	for sess := range results {
		if sess.Created {
			created++
		}
		c, err := session.Verify(testEncKey, sess.Token, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		users[c.UserID] = true
	}
	if created != 1 || len(users) != 1 {
		t.Fatalf("created %d times, %d users; want 1 and 1", created, len(users))
	}
}

func TestService_Account(t *testing.T) {
	c := newClock()
	s := newService(t, openDB(t), c)
	sess := authenticate(t, s, Credentials{Kind: KindDevice, ID: "device-acct-0123", Username: "acct", Create: true})
	uid := claims(t, s, testEncKey, sess.Token).UserID
	t.Run("OK", func(t *testing.T) {
		a, err := s.Account(context.Background(), uid)
		if err != nil {
			t.Fatal(err)
		}
		if a.UserID != uid || a.Username != "acct" || a.CustomID != "" || a.Email != "" ||
			len(a.DeviceIDs) != 1 || a.DeviceIDs[0] != "device-acct-0123" || !a.CreateTime.Equal(c.t) || !a.UpdateTime.Equal(c.t) {
			t.Fatalf("account = %+v", a)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Account(context.Background(), session.NewTokenID())
		wantError(t, err, abi.CodeNotFound, msgAccountNotFound)
	})
}

// TestService_readsOffTheWriter checks that logging in to an existing
// account, refreshing and reading the account do not wait for the writer:
// they complete while another transaction holds the write lock.
func TestService_readsOffTheWriter(t *testing.T) {
	db := openDB(t)
	s := newService(t, db, nil)
	c := Credentials{Kind: KindCustom, ID: "custom-id-123456", Username: "reader", Create: true}
	first := authenticate(t, s, c)
	tx, err := db.Writer().BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: holds the writer
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := s.Authenticate(ctx, c)
	if err != nil {
		t.Fatalf("Authenticate while the writer is held: %v", err)
	}
	if sess.Created {
		t.Fatal("Authenticate created the account again")
	}
	if _, err := s.Refresh(ctx, first.RefreshToken, nil); err != nil {
		t.Fatalf("Refresh while the writer is held: %v", err)
	}
	uid := claims(t, s, testEncKey, sess.Token).UserID
	if a, err := s.Account(ctx, uid); err != nil || a.Username != "reader" {
		t.Fatalf("Account while the writer is held = %+v, %v", a, err)
	}
}
