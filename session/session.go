// Package session signs and verifies Warden's session tokens, which are
// shaped exactly like Nakama's: HS256 JSON Web Tokens whose claims are tid,
// uid, usn, vrs, exp and iat, so that Nakama client libraries can parse them
// and tokens move between the two servers when they share a key.
//
// The package implements the one algorithm it needs instead of a general JWT
// library, so that nothing but HS256 can ever be accepted.
package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxTokenBytes bounds the length of a token that Verify accepts.
const MaxTokenBytes = 8 << 10

// Errors returned by Verify, wrapped with detail. Test them with errors.Is.
var (
	// ErrMalformed means the token is not a well-formed JWT: wrong number of
	// parts, bad base64 or JSON, or longer than MaxTokenBytes.
	ErrMalformed = errors.New("session: malformed token")
	// ErrAlgorithm means the header's alg is missing or is not exactly HS256.
	ErrAlgorithm = errors.New("session: unsupported signing algorithm")
	// ErrSignature means the signature does not match the key.
	ErrSignature = errors.New("session: invalid signature")
	// ErrExpired means the exp claim is missing or not after the current time.
	ErrExpired = errors.New("session: token expired")
	// ErrClaims means a claim holds an invalid value, such as a uid that is
	// not a UUID.
	ErrClaims = errors.New("session: invalid claims")
)

// header is the base64url form of {"alg":"HS256","typ":"JWT"}, the header
// golang-jwt v5 writes for HS256 and so the one Nakama's tokens carry.
const header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// algHS256 is the only accepted value of the header's alg.
const algHS256 = "HS256"

// Claims are the claims of a session token, in Nakama's SessionTokenClaims
// order and JSON names.
type Claims struct {
	// TokenID identifies the session (a UUIDv4); refresh tokens share it.
	TokenID string `json:"tid,omitempty"`
	// UserID is the user's UUID.
	UserID string `json:"uid,omitempty"`
	// Username is the user's name.
	Username string `json:"usn,omitempty"`
	// Vars are the session variables.
	Vars map[string]string `json:"vrs,omitempty"`
	// ExpiresAt is the expiry time, in Unix seconds.
	ExpiresAt int64 `json:"exp,omitempty"`
	// IssuedAt is the issue time, in Unix seconds.
	IssuedAt int64 `json:"iat,omitempty"`
}

// Sign returns c as an HS256 JWT signed with key: the header
// {"alg":"HS256","typ":"JWT"} and c's JSON, both base64url without padding,
// and the HMAC-SHA256 of the two. The bytes equal what golang-jwt v5 writes
// for Nakama.
//
// # Errors
//
// Sign fails when key is empty.
func Sign(key []byte, c Claims) (string, error) {
	if len(key) == 0 {
		return "", errors.New("session: sign: empty key")
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("session: sign: %w", err)
	}
	buf := make([]byte, 0, len(header)+base64.RawURLEncoding.EncodedLen(len(payload))+base64.RawURLEncoding.EncodedLen(sha256.Size)+2)
	buf = append(buf, header...)
	buf = append(buf, '.')
	buf = base64.RawURLEncoding.AppendEncode(buf, payload)
	sig := signature(key, buf)
	buf = append(buf, '.')
	buf = append(buf, sig...)
	return string(buf), nil
}

// Verify checks token against key at time now and returns its claims.
//
// # Errors
//
// Each error wraps one of the package's sentinels: ErrMalformed when the
// token is not three base64url parts of JSON or is over MaxTokenBytes,
// ErrAlgorithm when alg is not exactly HS256, ErrSignature when the
// signature does not match key (compared in constant time) or key is empty,
// ErrExpired when exp is missing or not after now, and ErrClaims when uid is
// not a UUID.
func Verify(key []byte, token string, now time.Time) (Claims, error) {
	if len(key) == 0 {
		return Claims{}, fmt.Errorf("%w: empty key", ErrSignature)
	}
	if len(token) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: %d bytes, over %d", ErrMalformed, len(token), MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, fmt.Errorf("%w: %d parts, want 3", ErrMalformed, len(parts))
	}
	if err := checkHeader(parts[0]); err != nil {
		return Claims{}, err
	}
	signed := token[:len(parts[0])+1+len(parts[1])]
	if !hmac.Equal([]byte(parts[2]), signature(key, []byte(signed))) {
		return Claims{}, ErrSignature
	}
	c, err := decodeClaims(parts[1])
	if err != nil {
		return Claims{}, err
	}
	if err := checkClaims(c, now); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// signature returns the base64url HMAC-SHA256 of signed. Comparing encoded
// signatures, rather than decoded ones, also refuses non-canonical encodings.
func signature(key, signed []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(signed)
	return base64.RawURLEncoding.AppendEncode(nil, m.Sum(nil))
}

// checkHeader decodes a token header and checks that alg is exactly HS256.
// Keys are matched exactly, so {"ALG":"HS256"} has no alg.
func checkHeader(part string) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	algRaw, ok := h["alg"]
	if !ok {
		return fmt.Errorf("%w: no alg", ErrAlgorithm)
	}
	var alg string
	if err := json.Unmarshal(algRaw, &alg); err != nil || alg != algHS256 {
		return fmt.Errorf("%w: alg %.32s", ErrAlgorithm, algRaw)
	}
	return nil
}

// decodeClaims decodes a token's payload part.
func decodeClaims(part string) (Claims, error) {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return c, nil
}

// checkClaims applies Nakama's rules: exp is required and must be after now
// (golang-jwt's WithExpirationRequired), and uid must be a UUID.
func checkClaims(c Claims, now time.Time) error {
	if err := checkExpiry(c, now); err != nil {
		return err
	}
	if !IsUUID(c.UserID) {
		return fmt.Errorf("%w: uid is not a UUID", ErrClaims)
	}
	return nil
}

// checkExpiry checks that exp is set and after now.
func checkExpiry(c Claims, now time.Time) error {
	if c.ExpiresAt == 0 {
		return fmt.Errorf("%w: no exp", ErrExpired)
	}
	if !now.Before(time.Unix(c.ExpiresAt, 0)) {
		return fmt.Errorf("%w: exp %d", ErrExpired, c.ExpiresAt)
	}
	return nil
}
