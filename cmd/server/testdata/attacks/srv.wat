;; srv is a hand-written plugin for cmd/server's sandbox tests: it registers
;; the server-only RPC srv, which answers "srv-guarded". evict.wat tries to
;; take the id over on a reload. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "srv")
  (data (i32.const 32) "srv-guarded")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 1)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $out (i32.const 32) (i32.const 11)))
    (i32.const 0))
)
