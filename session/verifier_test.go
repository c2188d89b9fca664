package session

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestVerifier_Verify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		v := NewVerifier(testKey, 0)
		for i := range 3 {
			c, err := v.Verify(goldenToken, goldenNow)
			if err != nil || !reflect.DeepEqual(c, goldenClaims()) {
				t.Fatalf("use %d: Verify = %+v, %v; want the golden claims", i, c, err)
			}
		}
		if v.len() != 1 {
			t.Fatalf("cache holds %d tokens, want 1", v.len())
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		// A remembered token is refused once its exp has passed, with the
		// error a fresh Verify gives, and forgotten.
		v := NewVerifier(testKey, 0)
		if _, err := v.Verify(goldenToken, goldenNow); err != nil {
			t.Fatal(err)
		}
		later := time.Unix(goldenClaims().ExpiresAt, 0)
		_, err := v.Verify(goldenToken, later)
		_, fresh := Verify(testKey, goldenToken, later)
		if !errors.Is(err, ErrExpired) || err.Error() != fresh.Error() {
			t.Fatalf("Verify after exp = %v, want %v", err, fresh)
		}
		if v.len() != 0 {
			t.Fatalf("cache holds %d tokens after expiry, want 0", v.len())
		}
	})
	t.Run("ErrSignature", func(t *testing.T) {
		// A token one byte away from a remembered one is verified afresh:
		// here its signature's last character changed.
		v := NewVerifier(testKey, 0)
		if _, err := v.Verify(goldenToken, goldenNow); err != nil {
			t.Fatal(err)
		}
		last := goldenToken[len(goldenToken)-1]
		other := goldenToken[:len(goldenToken)-1] + string(last^1)
		if _, err := v.Verify(other, goldenNow); !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify of a changed token = %v, want ErrSignature", err)
		}
		if v.len() != 1 {
			t.Fatalf("cache holds %d tokens, want 1: failures are never remembered", v.len())
		}
	})
	t.Run("OtherKey", func(t *testing.T) {
		// A Verifier never accepts a token remembered by another key's
		// Verifier, and does not share the caller's key slice.
		key := append([]byte(nil), testKey...)
		v := NewVerifier(key, 0)
		if _, err := v.Verify(goldenToken, goldenNow); err != nil {
			t.Fatal(err)
		}
		key[0] ^= 1
		if _, err := v.Verify(goldenToken, goldenNow); err != nil {
			t.Fatalf("Verify after the caller changed its slice = %v", err)
		}
		w := NewVerifier(key, 0)
		if _, err := w.Verify(goldenToken, goldenNow); !errors.Is(err, ErrSignature) {
			t.Fatalf("Verify under another key = %v, want ErrSignature", err)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		v := NewVerifier(testKey, 8)
		now := time.Now()
		for i := range 40 {
			c := goldenClaims()
			c.IssuedAt = int64(i)
			c.ExpiresAt = now.Unix() + 3600
			tok, err := Sign(testKey, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tok, now); err != nil {
				t.Fatal(err)
			}
			if v.len() > 8 {
				t.Fatalf("cache holds %d tokens, over its bound of 8", v.len())
			}
		}
	})
}

// TestVerifier_lowercaseUserID checks that the user ID comes out in
// lowercase, as Nakama reads it, both when the token is first verified and
// when it is remembered, whatever the case it was signed with.
func TestVerifier_lowercaseUserID(t *testing.T) {
	c := goldenClaims()
	c.UserID = strings.ToUpper(c.UserID)
	tok, err := Sign(testKey, c)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(testKey, 0)
	for i := range 2 {
		got, err := v.Verify(tok, goldenNow)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToLower(c.UserID); got.UserID != want {
			t.Errorf("use %d: UserID = %q, want %q", i, got.UserID, want)
		}
	}
}
