package fetch

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

// le appends n as a little-endian u32.
func le(b []byte, n uint32) []byte { return append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24)) }

// field appends a length-prefixed field.
func field(b []byte, s string) []byte { return append(le(b, uint32(len(s))), s...) }

// response builds an encoded response by hand from ABI 1.2's layout.
func response(status uint32, headers [][2]string, body string) []byte {
	b := le(le(nil, status), uint32(len(headers)))
	for _, h := range headers {
		b = field(field(b, h[0]), h[1])
	}
	return field(b, body)
}

func TestRequest_Encoding(t *testing.T) {
	h := fakehost.Reset()
	h.HTTPResponse = response(204, nil, "")
	res, err := Request("PUT", "http://127.0.0.1:8080/x?q=1",
		[]Header{{"X-A", "1"}, {"X-A", "2"}}, []byte("body"), 1500*time.Millisecond)
	if err != nil || res.Status != 204 {
		t.Fatalf("Request = %+v, %v; want 204", res, err)
	}
	want := field(field(nil, "PUT"), "http://127.0.0.1:8080/x?q=1")
	want = field(field(field(field(le(want, 2), "X-A"), "1"), "X-A"), "2")
	want = le(field(want, "body"), 1500)
	if len(h.HTTPRequests) != 1 || !bytes.Equal(h.HTTPRequests[0], want) {
		t.Errorf("sent %x,\nwant %x", h.HTTPRequests, want)
	}
}

func TestGetPost(t *testing.T) {
	h := fakehost.Reset()
	h.HTTPResponse = response(200, nil, "")
	if _, err := Get("http://h/"); err != nil {
		t.Fatal(err)
	}
	if _, err := Post("http://h/p", "application/json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	get := le(field(le(field(field(nil, "GET"), "http://h/"), 0), ""), 0)
	post := field(field(le(field(field(nil, "POST"), "http://h/p"), 1), "Content-Type"), "application/json")
	post = le(field(post, "{}"), 0)
	if want := [][]byte{get, post}; !reflect.DeepEqual(h.HTTPRequests, want) {
		t.Errorf("sent %x,\nwant %x", h.HTTPRequests, want)
	}
}

func TestTimeoutMS(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want uint32
	}{
		{"configured", 0, 0},
		{"negative", -time.Second, 0},
		{"under a millisecond", time.Microsecond, 1},
		{"seconds", 3 * time.Second, 3000},
		{"huge", 1 << 62, 1<<32 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := timeoutMS(tt.in); got != tt.want {
				t.Errorf("timeoutMS(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestResponse(t *testing.T) {
	h := fakehost.Reset()
	h.HTTPResponse = response(404, [][2]string{
		{"content-type", "text/plain"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"},
	}, "nöpe")
	res, err := Get("https://example.com/")
	if err != nil {
		t.Fatalf("a 4xx is a response, not an error: %v", err)
	}
	if res.Status != 404 || string(res.Body) != "nöpe" || len(res.Headers) != 3 {
		t.Errorf("response = %+v", res)
	}
	if got := res.Header("Content-Type"); got != "text/plain" {
		t.Errorf(`Header("Content-Type") = %q`, got)
	}
	if got := res.Header("SET-COOKIE"); got != "a=1" {
		t.Errorf(`Header("SET-COOKIE") = %q, want the first value`, got)
	}
	if got := res.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"a=1", "b=2"}) {
		t.Errorf("Values = %q", got)
	}
	if got := res.Header("x-missing"); got != "" {
		t.Errorf("missing header = %q", got)
	}
	if st := h.ResultRead(nil); st >= 0 {
		t.Errorf("the result slot still holds %d bytes", st)
	}
}

func TestResponse_ErrDecode(t *testing.T) {
	ok := response(200, nil, "abc")
	tests := []struct {
		name, in, why string
	}{
		{"truncated", string(ok[:len(ok)-1]), "truncated"},
		{"trailing", string(ok) + "\x00", "trailing bytes"},
		{"empty", "", "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakehost.Reset().HTTPResponse = []byte(tt.in)
			_, err := Get("http://h/")
			var e *Error
			if !errors.As(err, &e) || e.Status != warden.StatusInternal ||
				e.Message != "decode http_request response: "+tt.why {
				t.Errorf("error = %v, want INTERNAL %q", err, tt.why)
			}
		})
	}
}

func TestRequest_Errors(t *testing.T) {
	tests := []struct {
		status warden.Status
		code   warden.Code
	}{
		{warden.StatusNotGranted, warden.CodePermissionDenied},
		{warden.StatusHTTPFailed, warden.CodeUnavailable},
		{warden.StatusCancelled, warden.CodeDeadlineExceeded},
		{warden.StatusLimitExceeded, warden.CodeResourceExhausted},
		{warden.StatusBadArgument, warden.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.status.String(), func(t *testing.T) {
			h := fakehost.Reset()
			h.HTTPFail, h.HTTPFailMsg = int32(tt.status), "host says "+tt.status.String()
			_, err := Request("GET", "http://h/", []Header{{"A", "b"}}, nil, 0)
			want := tt.status.String() + ": host says " + tt.status.String()
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || err.Error() != want {
				t.Fatalf("error = %v, want %q", err, want)
			}
			if !errors.Is(err, tt.status) {
				t.Errorf("errors.Is(err, %v) = false", tt.status)
			}
			var rpc *warden.Error
			if !errors.As(err, &rpc) || rpc.Code != tt.code || rpc.Message != want {
				t.Errorf("as *warden.Error = %+v, want code %v", rpc, tt.code)
			}
		})
	}
}

func TestRequest_ErrNotGrantedByDefault(t *testing.T) {
	fakehost.Reset()
	_, err := Get("http://evil.example/")
	if !errors.Is(err, warden.StatusNotGranted) {
		t.Errorf("error = %v, want NOT_GRANTED", err)
	}
}

func TestRequest_ErrInit(t *testing.T) {
	fakehost.Reset().Init = true
	_, err := Get("http://h/")
	if !errors.Is(err, warden.StatusNotAllowed) {
		t.Errorf("error = %v, want NOT_ALLOWED in init", err)
	}
}
