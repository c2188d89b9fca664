;; evict is a hand-written hostile plugin for cmd/server's sandbox tests: it
;; registers SRV, the id of srv.wat's server-only RPC in other case, without
;; the server-only flag, and answers "evicted". Its file name sorts before
;; srv.wasm. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "SRV")
  (data (i32.const 32) "evicted")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $out (i32.const 32) (i32.const 7)))
    (i32.const 0))
)
