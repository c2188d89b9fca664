package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("defaultencryptionkey")

// goldenClaims and goldenToken pin the token format. The token was computed
// once with Sign and cross-checked with an independent HMAC-SHA256 and
// base64url implementation; its header and payload JSON are checked by hand
// in TestSign_Golden.
func goldenClaims() Claims {
	return Claims{
		TokenID:   "5b3c1a5e-7d2f-4c1b-9e8a-1f2d3c4b5a69",
		UserID:    "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b",
		Username:  "alice<&>",
		Vars:      map[string]string{"z": "1", "a": "x"},
		ExpiresAt: 1767225600,
		IssuedAt:  1767218400,
	}
}

const goldenToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
	"eyJ0aWQiOiI1YjNjMWE1ZS03ZDJmLTRjMWItOWU4YS0xZjJkM2M0YjVhNjkiLCJ1aWQiOiIyZjdjOWQxZS0zYjRhLTRlNWYtOGE2Yi03YzhkOWUwZjFhMmIiLCJ1c24iOiJhbGljZVx1MDAzY1x1MDAyNlx1MDAzZSIsInZycyI6eyJhIjoieCIsInoiOiIxIn0sImV4cCI6MTc2NzIyNTYwMCwiaWF0IjoxNzY3MjE4NDAwfQ." +
	"LIrn65i9hyEKGqAhJMF_VgHQKwEVN5-MklEugqzD8-s"

// goldenNow is a time at which goldenToken is valid.
var goldenNow = time.Unix(1767218400, 0)

func TestSign_Golden(t *testing.T) {
	got, err := Sign(testKey, goldenClaims())
	if err != nil {
		t.Fatal(err)
	}
	if got != goldenToken {
		t.Fatalf("Sign:\n got %s\nwant %s", got, goldenToken)
	}
	parts := strings.Split(got, ".")
	wantHeader := `{"alg":"HS256","typ":"JWT"}`
	if h := mustDecode(t, parts[0]); h != wantHeader {
		t.Errorf("header = %s, want %s", h, wantHeader)
	}
	// Struct order, Go's HTML escaping, sorted map keys: what golang-jwt v5
	// writes for Nakama's SessionTokenClaims.
	wantPayload := `{"tid":"5b3c1a5e-7d2f-4c1b-9e8a-1f2d3c4b5a69",` +
		`"uid":"2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b",` +
		`"usn":"alice\u003c\u0026\u003e","vrs":{"a":"x","z":"1"},` +
		`"exp":1767225600,"iat":1767218400}`
	if p := mustDecode(t, parts[1]); p != wantPayload {
		t.Errorf("payload = %s, want %s", p, wantPayload)
	}
	if strings.ContainsAny(got, "=+/") {
		t.Errorf("token %q is not base64url without padding", got)
	}
}

func TestSign_OmitEmpty(t *testing.T) {
	tok, err := Sign(testKey, Claims{UserID: "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b", ExpiresAt: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uid":"2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b","exp":1}`
	if p := mustDecode(t, strings.Split(tok, ".")[1]); p != want {
		t.Errorf("payload = %s, want %s", p, want)
	}
}

func TestSign_ErrEmptyKey(t *testing.T) {
	if _, err := Sign(nil, goldenClaims()); err == nil {
		t.Fatal("Sign with an empty key succeeded")
	}
}

func TestVerify_RoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		claims Claims
	}{
		{name: "golden", claims: goldenClaims()},
		{name: "minimal", claims: Claims{UserID: NewTokenID(), ExpiresAt: goldenNow.Unix() + 1}},
		{name: "unicode", claims: Claims{
			TokenID: NewTokenID(), UserID: strings.ToUpper(NewTokenID()), Username: "名前?~>",
			Vars: map[string]string{"k": "\x00\"\\"}, ExpiresAt: goldenNow.Unix() + 7200, IssuedAt: goldenNow.Unix(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(testKey, tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(testKey, tok, goldenNow)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(got, tt.claims) {
				t.Errorf("claims = %+v, want %+v", got, tt.claims)
			}
		})
	}
}

func TestVerify_ExpiryBoundary(t *testing.T) {
	exp := time.Unix(goldenClaims().ExpiresAt, 0)
	if _, err := Verify(testKey, goldenToken, exp.Add(-time.Nanosecond)); err != nil {
		t.Errorf("1ns before exp: %v", err)
	}
	if _, err := Verify(testKey, goldenToken, exp); !errors.Is(err, ErrExpired) {
		t.Errorf("at exp: err = %v, want ErrExpired", err)
	}
}

func TestVerify_Errors(t *testing.T) {
	const uid = "2f7c9d1e-3b4a-4e5f-8a6b-7c8d9e0f1a2b"
	okPayload := `{"uid":"` + uid + `","exp":1767225600}`
	hs256 := `{"alg":"HS256","typ":"JWT"}`
	parts := strings.Split(goldenToken, ".")
	tests := []struct {
		name  string
		key   []byte
		token string
		want  error
	}{
		{name: "ErrMalformed/empty", token: "", want: ErrMalformed},
		{name: "ErrMalformed/two parts", token: parts[0] + "." + parts[1], want: ErrMalformed},
		{name: "ErrMalformed/four parts", token: goldenToken + ".x", want: ErrMalformed},
		{name: "ErrMalformed/too long", token: craft(testKey, hs256, `{"uid":"`+uid+`","exp":1767225600,"usn":"`+strings.Repeat("a", MaxTokenBytes)+`"}`), want: ErrMalformed},
		{name: "ErrMalformed/header base64", token: "!!!." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "ErrMalformed/header padded", token: enc(hs256) + "=." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "ErrMalformed/header not JSON", token: craft(testKey, `alg=HS256`, okPayload), want: ErrMalformed},
		{name: "ErrMalformed/header array", token: craft(testKey, `["HS256"]`, okPayload), want: ErrMalformed},
		{name: "ErrMalformed/claims base64", token: craftRaw(testKey, enc(hs256), "***"), want: ErrMalformed},
		{name: "ErrMalformed/claims not JSON", token: craft(testKey, hs256, `{"uid":`), want: ErrMalformed},
		{name: "ErrMalformed/exp string", token: craft(testKey, hs256, `{"uid":"`+uid+`","exp":"1767225600"}`), want: ErrMalformed},
		{name: "ErrAlgorithm/none", token: enc(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", want: ErrAlgorithm},
		{name: "ErrAlgorithm/none signed", token: craft(testKey, `{"alg":"none"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/HS512", token: craft(testKey, `{"alg":"HS512","typ":"JWT"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/RS256", token: craft(testKey, `{"alg":"RS256","typ":"JWT"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/lowercase value", token: craft(testKey, `{"alg":"hs256"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/uppercase key", token: craft(testKey, `{"ALG":"HS256"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/missing", token: craft(testKey, `{"typ":"JWT"}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/number", token: craft(testKey, `{"alg":256}`, okPayload), want: ErrAlgorithm},
		{name: "ErrAlgorithm/trailing space", token: craft(testKey, `{"alg":"HS256 "}`, okPayload), want: ErrAlgorithm},
		{name: "ErrSignature/wrong key", token: craft([]byte("otherkey"), hs256, okPayload), want: ErrSignature},
		{name: "ErrSignature/empty key", key: []byte{}, token: goldenToken, want: ErrSignature},
		{name: "ErrSignature/tampered claims", token: parts[0] + "." + enc(`{"uid":"`+uid+`","exp":9999999999}`) + "." + parts[2], want: ErrSignature},
		{name: "ErrSignature/tampered signature", token: goldenToken[:len(goldenToken)-2] + "AA", want: ErrSignature},
		{name: "ErrSignature/non-canonical", token: goldenToken[:len(goldenToken)-1] + "t", want: ErrSignature},
		{name: "ErrSignature/padded", token: goldenToken + "=", want: ErrSignature},
		{name: "ErrSignature/empty", token: parts[0] + "." + parts[1] + ".", want: ErrSignature},
		{name: "ErrSignature/newline", token: goldenToken[:len(goldenToken)-4] + "\n" + goldenToken[len(goldenToken)-4:], want: ErrSignature},
		{name: "ErrExpired/past", token: craft(testKey, hs256, `{"uid":"`+uid+`","exp":1767218399}`), want: ErrExpired},
		{name: "ErrExpired/now", token: craft(testKey, hs256, `{"uid":"`+uid+`","exp":1767218400}`), want: ErrExpired},
		{name: "ErrExpired/missing", token: craft(testKey, hs256, `{"uid":"`+uid+`"}`), want: ErrExpired},
		{name: "ErrExpired/null claims", token: craft(testKey, hs256, `null`), want: ErrExpired},
		{name: "ErrClaims/uid missing", token: craft(testKey, hs256, `{"exp":1767225600}`), want: ErrClaims},
		{name: "ErrClaims/uid not UUID", token: craft(testKey, hs256, `{"uid":"alice","exp":1767225600}`), want: ErrClaims},
		{name: "ErrClaims/uid braces", token: craft(testKey, hs256, `{"uid":"{`+uid+`}","exp":1767225600}`), want: ErrClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := testKey
			if tt.key != nil {
				key = tt.key
			}
			c, err := Verify(key, tt.token, goldenNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(c, Claims{}) {
				t.Errorf("claims = %+v on error, want zero", c)
			}
		})
	}
}

// enc returns s in base64url without padding.
func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// craft returns a token with the given header and payload JSON, signed with
// HS256 and key whatever the header says.
func craft(key []byte, header, payload string) string {
	return craftRaw(key, enc(header), enc(payload))
}

// craftRaw signs already encoded parts.
func craftRaw(key []byte, header, payload string) string {
	signed := header + "." + payload
	return signed + "." + referenceSignature(key, signed)
}

// referenceSignature computes an HS256 signature without the package's code.
func referenceSignature(key []byte, signed string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func mustDecode(t *testing.T, part string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("decode %q: %v", part, err)
	}
	return string(b)
}
