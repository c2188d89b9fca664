//go:build !wasip1

package warden

import (
	"errors"
	"testing"
)

func TestFakeHost(t *testing.T) {
	greet := func(_ *Context, p []byte) ([]byte, error) {
		if len(p) == 0 {
			return nil, NewError("say who to greet", CodeInvalidArgument)
		}
		return append([]byte("hello, "), p...), nil
	}
	page := func(ctx *Context, _ []byte) ([]byte, error) {
		m, _ := ctx.HTTPMethod()
		p, _ := ctx.HTTPPath()
		if err := ctx.SetStatus(201); err != nil {
			return nil, err
		}
		return []byte(m + " " + p), nil
	}
	f, err := StartFakeHost(func(*Context) error {
		if err := Register("Greet", greet); err != nil {
			return err
		}
		return RegisterHTTP("/hello/:who", "GET", page)
	})
	t.Cleanup(func() { Init(nil) })
	if err != nil {
		t.Fatal(err)
	}
	if out, err := f.RPC("greet", []byte("ann")); err != nil || string(out) != "hello, ann" {
		t.Errorf("greet ann = %q, %v", out, err)
	}
	var e *Error
	if _, err := f.RPC("greet", nil); !errors.As(err, &e) || e.Code != CodeInvalidArgument {
		t.Errorf("greet empty: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := f.RPC("nope", nil); !errors.As(err, &e) || e.Code != CodeNotFound {
		t.Errorf("nope: %v, want NOT_FOUND", err)
	}
	r, err := f.HTTP("GET", "/hello/:who", "/hello/bo", nil)
	if err != nil || r.Status != 201 || string(r.Body) != "GET /hello/bo" {
		t.Errorf("route = %+v, %v", r, err)
	}
}
