//go:build !wasip1

package sys

import (
	"unsafe"

	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

func http_request(reqPtr unsafe.Pointer, reqLen uint32) int64 {
	return fakehost.Get().HTTPRequest(bytes(reqPtr, reqLen))
}
