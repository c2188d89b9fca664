package warden

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// initPlugin runs the plugin's init; warden_init calls it. It returns 0,
// or 1 after setting the error.
func initPlugin() int32 {
	defer recoverPanic()
	// A second init on the same instance starts over, so ids stay dense.
	plugin.handlers = plugin.handlers[:0]
	if plugin.init == nil {
		return fail(NewError("no init function: call warden.Init from a Go init function", CodeInternal))
	}
	plugin.inInit = true
	err := plugin.init(&Context{})
	plugin.inInit = false
	if err != nil {
		return fail(err)
	}
	return 0
}

// handle runs one call; warden_handle calls it. It returns 0 with the
// output written, or 1 after setting the error.
func handle(handlerID, inputLen int32) int32 {
	defer recoverPanic()
	if handlerID < 0 || int(handlerID) >= len(plugin.handlers) {
		return fail(NewError("unknown handler id "+strconv.Itoa(int(handlerID)), CodeInternal))
	}
	input, err := readInput(inputLen)
	if err != nil {
		return fail(err)
	}
	out, err := plugin.handlers[handlerID](&Context{}, input)
	if err != nil {
		return fail(err)
	}
	if err := writeOutput(out); err != nil {
		return fail(err)
	}
	return 0
}

// fail sets the call's error from err and returns the exports' failure result.
func fail(err error) int32 {
	e := toError(err)
	sys.ErrorSet(int32(e.Code), e.Message)
	return 1
}

func readInput(n int32) ([]byte, error) {
	if n < 0 {
		return nil, NewError("negative input length", CodeInternal)
	}
	buf := make([]byte, n)
	off := 0
	for off < len(buf) {
		k := sys.InputRead(int32(off), buf[off:])
		if k < 0 {
			return nil, NewError("read input: "+lastError(Status(k)), CodeInternal)
		}
		if k == 0 {
			break
		}
		off += int(k)
	}
	return buf[:off], nil
}

func writeOutput(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch st := Status(sys.OutputWrite(b)); st {
	case StatusOK:
		return nil
	case StatusLimitExceeded:
		return NewError("write output: "+lastError(st), CodeResourceExhausted)
	default:
		return NewError("write output: "+lastError(st), CodeInternal)
	}
}

// recoverPanic reports a panic to the host with its message and location,
// then traps. Deferred by the exports; it must call recover itself.
func recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	msg := panicMessage(r)
	if loc := panicLocation(); loc != "" {
		msg += " at " + loc
	}
	sys.Panic(msg)
}

// panicMessage renders a panic value as Go's runtime prints it.
func panicMessage(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	case string:
		return v
	}
	return fmt.Sprint(r)
}

// panicLocation returns file:line of the function that panicked: the first
// frame outside the runtime below runtime.gopanic. It runs in the deferred
// call, while the panicking frames are still on the stack.
func panicLocation() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return f.File + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return ""
		}
	}
}
