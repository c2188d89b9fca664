package session_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/warden-rpc/warden/session"
)

func Example() {
	key := []byte("defaultencryptionkey")
	token, err := session.Sign(key, session.Claims{
		UserID:    "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b",
		Username:  "alice",
		ExpiresAt: 1767225600,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := session.Verify(key, token, time.Unix(1767218400, 0))
	fmt.Println(c.Username, err)
	_, err = session.Verify(key, token, time.Unix(1767225600, 0))
	fmt.Println(errors.Is(err, session.ErrExpired))
	// Output:
	// alice <nil>
	// true
}
