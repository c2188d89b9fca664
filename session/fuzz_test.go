package session

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks that Verify never panics and never accepts a token that
// is not signed with the key: whatever it accepts must carry exactly the
// reference HS256 signature of its first two parts, with an HS256 header, an
// exp after now and a UUID uid.
func FuzzVerify(f *testing.F) {
	seeds := []string{
		goldenToken,
		"",
		"..",
		"a.b.c",
		craft(testKey, `{"alg":"none"}`, `{"uid":"2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b","exp":1767225600}`),
		craft(testKey, `{"alg":"HS256"}`, `{"uid":"2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b","exp":1767225600}`),
		craft([]byte("other"), `{"alg":"HS256"}`, `{"uid":"2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b","exp":1767225600}`),
		craft(testKey, `{"alg":"HS256"}`, `{"uid":"x","exp":1}`),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	now := goldenNow
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Verify(testKey, token, now)
		if err != nil {
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q with %d parts", token, len(parts))
		}
		if want := referenceSignature(testKey, parts[0]+"."+parts[1]); parts[2] != want {
			t.Fatalf("accepted %q with signature %q, want %q", token, parts[2], want)
		}
		if !strings.Contains(mustDecode(t, parts[0]), "HS256") {
			t.Fatalf("accepted %q without HS256 in its header", token)
		}
		if !now.Before(time.Unix(c.ExpiresAt, 0)) || !IsUUID(c.UserID) {
			t.Fatalf("accepted %q with claims %+v", token, c)
		}
		if _, err := Verify([]byte("another key"), token, now); err == nil {
			t.Fatalf("accepted %q with another key", token)
		}
	})
}
