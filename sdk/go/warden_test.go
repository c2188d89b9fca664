package warden

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
	"github.com/warden-rpc/warden/sdk/go/internal/wire"
)

// setup resets the fake host and runs init as warden_init would; it
// returns the host and init's result.
func setup(t *testing.T, init InitFunc) (*fakehost.Host, int32) {
	t.Helper()
	h := fakehost.Reset()
	h.Init = true
	Init(init)
	rc := initPlugin()
	h.Init = false
	t.Cleanup(func() { Init(nil) })
	return h, rc
}

func echo(_ *Context, p []byte) ([]byte, error) { return p, nil }

func TestRegister(t *testing.T) {
	h, rc := setup(t, func(*Context) error {
		if err := Register("Echo", echo); err != nil {
			return err
		}
		return RegisterServerOnly("secret", echo)
	})
	if rc != 0 {
		t.Fatalf("init = %d (%s)", rc, h.ErrMsg)
	}
	want := []fakehost.Registration{{ID: "echo", HandlerID: 0}, {ID: "secret", HandlerID: 1, Flags: 1}}
	if !reflect.DeepEqual(h.Registered, want) {
		t.Errorf("registered %+v, want %+v", h.Registered, want)
	}
}

func TestRegister_ErrAlreadyExists(t *testing.T) {
	h, rc := setup(t, func(*Context) error {
		_ = Register("echo", echo)
		return Register("ECHO", echo)
	})
	if rc == 0 || h.ErrCode != int32(CodeAlreadyExists) || !strings.Contains(h.ErrMsg, "registered already") {
		t.Errorf("init = %d, error %d %q; want ALREADY_EXISTS with the host's message", rc, h.ErrCode, h.ErrMsg)
	}
	if len(plugin.handlers) != 1 {
		t.Errorf("%d handlers, want 1", len(plugin.handlers))
	}
}

func TestRegister_ErrOutsideInit(t *testing.T) {
	fakehost.Reset()
	var e *Error
	if err := Register("x", echo); !errors.As(err, &e) || e.Code != CodeFailedPrecondition {
		t.Errorf("Register outside init = %v, want FAILED_PRECONDITION", err)
	}
}

func TestInit_ErrNoInit(t *testing.T) {
	h, rc := setup(t, nil)
	if rc == 0 || !strings.Contains(h.ErrMsg, "warden.Init") {
		t.Errorf("init = %d, %q", rc, h.ErrMsg)
	}
}

// call runs handler id on input as warden_handle would.
func call(h *fakehost.Host, id int32, input string) int32 {
	h.Input, h.Output, h.ErrSet = []byte(input), nil, false
	return handle(id, int32(len(input)))
}

func TestHandle(t *testing.T) {
	h, _ := setup(t, func(*Context) error {
		_ = Register("echo", echo)
		_ = Register("fail", func(_ *Context, p []byte) ([]byte, error) {
			return nil, fmt.Errorf("wrapped: %w", NewError("no "+string(p), CodeNotFound))
		})
		_ = Register("plain", func(*Context, []byte) ([]byte, error) { return nil, errors.New("plain") })
		return Register("busy", func(*Context, []byte) ([]byte, error) { return nil, fmt.Errorf("db: %w", StatusDBBusy) })
	})
	tests := []struct {
		name     string
		id       int32
		input    string
		wantRC   int32
		wantOut  string
		wantCode int32
		wantMsg  string
	}{
		{"OK", 0, strings.Repeat("x", 1000), 0, strings.Repeat("x", 1000), 0, ""},
		{"ErrCode", 1, "key", 1, "", 5, "no key"},
		{"ErrPlain", 2, "", 1, "", 13, "plain"},
		{"ErrBusy", 3, "", 1, "", 14, "db: DB_BUSY"},
		{"ErrUnknownID", 9, "", 1, "", 13, "unknown handler id 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := call(h, tt.id, tt.input)
			if rc != tt.wantRC || string(h.Output) != tt.wantOut {
				t.Errorf("handle = %d, output %q; want %d, %q", rc, h.Output, tt.wantRC, tt.wantOut)
			}
			if tt.wantRC != 0 && (h.ErrCode != tt.wantCode || h.ErrMsg != tt.wantMsg) {
				t.Errorf("error = %d %q, want %d %q", h.ErrCode, h.ErrMsg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestHandle_Panic(t *testing.T) {
	h, _ := setup(t, func(*Context) error {
		return Register("panic", func(*Context, []byte) ([]byte, error) { panic("boom") })
	})
	func() {
		defer func() {
			if r := recover(); r != (fakehost.Trapped{}) {
				t.Errorf("recovered %v, want a trap", r)
			}
		}()
		call(h, 0, "")
	}()
	if !h.Panicked || !strings.HasPrefix(h.PanicMsg, "boom at ") || !strings.Contains(h.PanicMsg, "warden_test.go:") {
		t.Errorf("panic message %q, want boom at <this file>", h.PanicMsg)
	}
}

func TestContext(t *testing.T) {
	h := fakehost.Reset()
	long := strings.Repeat("u", 1000) // longer than the first buffer
	h.Ctx = map[string][]byte{
		KeyUserID:         []byte(long),
		KeyUsername:       {},
		KeyUserSessionExp: []byte("1700000000"),
		KeyClientPort:     []byte("8080"),
		KeyHeaders:        wire.EncodeMap([]wire.Pair{{Key: "Accept", Value: "a"}, {Key: "Accept", Value: "b"}}),
		KeyVars:           wire.EncodeMap([]wire.Pair{{Key: "tier", Value: "gold"}}),
		"header.Accept":   []byte("a"),
	}
	c := &Context{}
	if v, ok := c.UserID(); !ok || v != long {
		t.Errorf("UserID = %d bytes, %v", len(v), ok)
	}
	if v, ok := c.Username(); !ok || v != "" {
		t.Errorf("Username = %q, %v; want present and empty", v, ok)
	}
	if v, ok := c.SessionExpiry(); !ok || v != 1700000000 {
		t.Errorf("SessionExpiry = %d, %v", v, ok)
	}
	if v, ok := c.ClientPort(); !ok || v != 8080 {
		t.Errorf("ClientPort = %d, %v", v, ok)
	}
	if v := c.Headers(); !reflect.DeepEqual(v, map[string][]string{"Accept": {"a", "b"}}) {
		t.Errorf("Headers = %v", v)
	}
	if v := c.Vars(); !reflect.DeepEqual(v, map[string]string{"tier": "gold"}) {
		t.Errorf("Vars = %v", v)
	}
	if v, ok := c.Header("Accept"); !ok || v != "a" {
		t.Errorf("Header = %q, %v", v, ok)
	}
	if _, ok := c.TraceID(); ok {
		t.Error("TraceID present")
	}
	if v := c.QueryParams(); len(v) != 0 {
		t.Errorf("QueryParams = %v, want empty", v)
	}
}

func TestLogger(t *testing.T) {
	h := fakehost.Reset()
	h.Level = int32(LevelInfo)
	var l Logger
	l.Debug("dropped %d", 1)
	l.Info("kept %d", 2)
	l.Error("kept %s", "3")
	want := []fakehost.LogLine{{Level: 1, Msg: "kept 2"}, {Level: 3, Msg: "kept 3"}}
	if !reflect.DeepEqual(h.Logs, want) {
		t.Errorf("logs %+v, want %+v", h.Logs, want)
	}
}

func TestStatus_String(t *testing.T) {
	for st, want := range map[Status]string{StatusOK: "OK", StatusTxState: "TX_STATE", StatusBufferTooSmall: "BUFFER_TOO_SMALL", StatusNotGranted: "NOT_GRANTED", StatusHTTPFailed: "HTTP_FAILED", -18: "UNKNOWN", 1: "UNKNOWN"} {
		if st.String() != want {
			t.Errorf("Status(%d) = %s, want %s", st, st, want)
		}
	}
	if CodePermissionDenied.String() != "PERMISSION_DENIED" || Code(17).String() != "17" {
		t.Error("Code.String")
	}
}

func TestRandomFill(t *testing.T) {
	fakehost.Reset()
	b := make([]byte, 70000)
	if err := RandomFill(b); err != nil || b[65537] != 1 {
		t.Errorf("RandomFill = %v, b[65537] = %d; want two host calls", err, b[65537])
	}
}
