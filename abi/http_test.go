package abi

import (
	"reflect"
	"testing"
)

func TestHTTPRequest_roundTrip(t *testing.T) {
	want := HTTPRequest{Method: "POST", URL: "https://api.example.com/x?q=1",
		Headers: [][2]string{{"Content-Type", "application/json"}, {"X-A", "1"}, {"X-A", "2"}},
		Body:    []byte(`{"a":1}`), TimeoutMS: 1500}
	b := EncodeHTTPRequest(want)
	got, err := DecodeHTTPRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for n := range len(b) {
		if _, err := DecodeHTTPRequest(b[:n]); err == nil {
			t.Errorf("a request cut to %d of %d bytes decodes", n, len(b))
		}
	}
	if _, err := DecodeHTTPRequest(append(b, 0)); err == nil {
		t.Error("a request with a trailing byte decodes")
	}
}

func TestHTTPResponse_roundTrip(t *testing.T) {
	want := HTTPResponse{Status: 404, Headers: [][2]string{{"content-type", "text/plain"}}, Body: []byte("nope")}
	b := AppendHTTPResponse(nil, want)
	got, err := DecodeHTTPResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := DecodeHTTPResponse(b[:len(b)-1]); err == nil {
		t.Error("a truncated response decodes")
	}
}
