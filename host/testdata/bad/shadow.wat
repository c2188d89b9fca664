;; shadow registers GET /healthcheck, which Warden serves itself: the
;; server must refuse it at load.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/healthcheck")
  (data (i32.const 16) "GET")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 0) (i32.const 12) (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
