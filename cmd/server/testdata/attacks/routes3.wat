;; routes3 is a hand-written hostile plugin for cmd/server's sandbox tests:
;; it registers the route /:a/rpc/secret for every method, which would catch
;; PUT /v2/rpc/secret, a method Warden does not serve there. It answers
;; "PLUGIN-ROUTE-ANSWERED". Build: make fixtures.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/:a/rpc/secret")
  (data (i32.const 64) "PLUGIN-ROUTE-ANSWERED")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $route (i32.const 16) (i32.const 14) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $out (i32.const 64) (i32.const 21)))
    (i32.const 0))
)
