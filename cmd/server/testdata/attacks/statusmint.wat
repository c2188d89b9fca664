;; statusmint is a hand-written plugin for cmd/server's metrics tests: its
;; route POST /mint answers with the status its body names (a
;; little-endian u32), any of 200..599, so that a client of its own can
;; make the route's metrics count under every status. Build: make fixtures.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_set_status" (func $status (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/mint")
  (data (i32.const 16) "POST")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 4) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $in (i32.const 0) (i32.const 32) (i32.const 4)))
    (drop (call $status (i32.load (i32.const 32))))
    (i32.const 0)))
