package httpapi

import (
	"crypto/subtle"
	"hash/maphash"
)

// secret is a key that requests are checked against (the HTTP key, the
// server key), compared so that the time taken tells nothing of its bytes
// or its length.
//
// A given value is hashed first, with maphash under a seed of the
// process's own, and only a value whose hash is the key's is compared with
// it byte by byte. Hashing takes a time that depends on the given value's
// length alone, and comparing two 64-bit hashes the same time whatever
// they are, so a wrong value, of any length or content, is refused in a
// time that depends on nothing secret. A right value is then compared in
// constant time (same length by then); the one thing that time shows is
// that the value was right, which the answer shows anyway. An attacker
// who cannot see the seed cannot aim for a colliding value (one chance in
// 2^64 per try, and the byte comparison still refuses it).
//
// This replaces comparing SHA-256 digests, which had the same property at
// about 2,700 instructions per request, 5 % of an echo (docs/benchmarks.md,
// "Issue 12, seventh pass").
type secret struct {
	seed maphash.Seed
	sum  uint64
	key  string
}

// newSecret returns key as a secret.
func newSecret(key string) secret {
	seed := maphash.MakeSeed()
	return secret{seed: seed, sum: maphash.String(seed, key), key: key}
}

// matches reports whether given is the key.
func (s *secret) matches(given string) bool {
	if maphash.String(s.seed, given) != s.sum || len(given) != len(s.key) {
		return false
	}
	var diff byte
	for i := range len(given) {
		diff |= given[i] ^ s.key[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}
