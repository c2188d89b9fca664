package session

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
)

// NewTokenID returns a new random UUID (version 4, RFC 9562) in its
// canonical form, 8-4-4-4-12 lowercase hex digits. Token IDs and trace IDs
// use it.
//
// # Notes
//
// The randomness comes from crypto/rand, which never fails on supported
// platforms (it crashes the program instead).
func NewTokenID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return formatUUIDv4(u)
}

// NewTraceID returns a new random UUID (version 4) in canonical form, as
// NewTokenID does, for trace IDs: identifiers that must be unique but not
// secret.
//
// # Notes
//
// The randomness comes from the runtime's per-thread ChaCha8 generator
// (math/rand/v2), seeded from the operating system, so that a request costs
// no system call. Never use it for anything an attacker must not guess.
func NewTraceID() string {
	var s [36]byte
	PutTraceID(&s)
	return string(s[:])
}

// PutTraceID writes a new trace ID, as NewTraceID returns it, into dst,
// for a caller that keeps it in memory of its own.
func PutTraceID(dst *[36]byte) {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], mrand.Uint64())
	putUUIDv4(dst, u)
}

// formatUUIDv4 sets u's version (4) and variant bits and returns it in
// canonical form.
func formatUUIDv4(u [16]byte) string {
	var s [36]byte
	putUUIDv4(&s, u)
	return string(s[:])
}

// putUUIDv4 sets u's version (4) and variant bits and writes it into s in
// canonical form: each byte's two hex digits in one store, at places known
// when compiling (no bounds checks), and the dashes between the groups.
func putUUIDv4(s *[36]byte, u [16]byte) {
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	le := binary.LittleEndian
	le.PutUint16(s[0:], hexPairs[u[0]])
	le.PutUint16(s[2:], hexPairs[u[1]])
	le.PutUint16(s[4:], hexPairs[u[2]])
	le.PutUint16(s[6:], hexPairs[u[3]])
	le.PutUint16(s[9:], hexPairs[u[4]])
	le.PutUint16(s[11:], hexPairs[u[5]])
	le.PutUint16(s[14:], hexPairs[u[6]])
	le.PutUint16(s[16:], hexPairs[u[7]])
	le.PutUint16(s[19:], hexPairs[u[8]])
	le.PutUint16(s[21:], hexPairs[u[9]])
	le.PutUint16(s[24:], hexPairs[u[10]])
	le.PutUint16(s[26:], hexPairs[u[11]])
	le.PutUint16(s[28:], hexPairs[u[12]])
	le.PutUint16(s[30:], hexPairs[u[13]])
	le.PutUint16(s[32:], hexPairs[u[14]])
	le.PutUint16(s[34:], hexPairs[u[15]])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
}

// hexPairs holds each byte's two lowercase hex digits, the first in the
// low byte, as binary.LittleEndian.PutUint16 writes them in order.
var hexPairs = func() (t [256]uint16) {
	const digits = "0123456789abcdef"
	for b := range t {
		t[b] = uint16(digits[b>>4]) | uint16(digits[b&0x0f])<<8
	}
	return t
}()

// IsUUID reports whether s is a UUID in canonical form: 36 characters,
// 8-4-4-4-12 hex digits of either case separated by hyphens. The version and
// variant bits are not checked.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
