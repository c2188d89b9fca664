//go:build wasip1

package warden

// The ABI's guest exports (ABI.md section 2). Go's c-shared build mode
// adds memory and _initialize, which runs package initialisation and so
// the plugin's call to Init.

//go:wasmexport warden_abi_v1
func wardenABIV1() {}

//go:wasmexport warden_init
func wardenInit() int32 { return initPlugin() }

//go:wasmexport warden_handle
func wardenHandle(handlerID, inputLen int32) int32 { return handle(handlerID, inputLen) }
