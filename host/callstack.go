package host

import (
	"reflect"
	"unsafe"

	"github.com/tetratelabs/wazero/api"
)

// maxKeptCallStack is the most call stack, in bytes, an instance keeps
// after a call: wazero grows the stack a call needs (a Go slice of its
// compiler's call engine) and keeps it with the function, which the
// instance caches, outside the plugin's memory cap. The guest's own count
// (abi.MaxCallStackSlots, each function weighed by a bound of its frame)
// keeps a call's stack under 57 MiB, and plugins' frames are far smaller
// than their weights: a plugin's calls keep kilobytes. An instance whose
// stack grew past this, a call that came near the bound, or frames larger
// than their weights should a wazero upgrade build them, is not used
// again, and the stack goes with it.
const maxKeptCallStack = 8 << 20

// stackFieldOf returns the offset of t's field "stack" when t is a pointer
// to a struct with a []byte field of that name: where wazero v1.12's
// optimizing compiler keeps a function's call stack (its call engine). It
// is read by reflection once per instance; when another engine or another
// wazero has no such field, nothing is checked, and
// TestHost_hostileFramesBounded fails.
func stackFieldOf(t reflect.Type) (uintptr, bool) {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	f, ok := t.Elem().FieldByName("stack")
	if !ok || f.Type != reflect.TypeOf([]byte(nil)) {
		return 0, false
	}
	return f.Offset, true
}

// callStackBytes returns the length of the call stack wazero keeps for f,
// or -1 when it cannot tell. off is stackFieldOf(f's type).
func callStackBytes(f api.Function, off uintptr) int {
	p := (*[2]unsafe.Pointer)(unsafe.Pointer(&f))[1] // the interface's data word: the *struct
	if p == nil {
		return -1
	}
	return len(*(*[]byte)(unsafe.Add(p, off)))
}
