;; items_key is an open route /items/:key (any method) that answers
;; "key=<its parameter>". It replaces items in reroute tests: it
;; serves the same paths under another parameter name.
;; Build: wat2wasm items_key.wat -o items_key.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/items/:key")
  (data (i32.const 48) "route.key")
  (data (i32.const 64) "key=")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 16) (i32.const 11) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (local $n i64)
    (drop (call $out (i32.const 64) (i32.const 4)))
    (local.set $n (call $ctx (i32.const 48) (i32.const 9) (i32.const 1024) (i32.const 1024)))
    (if (i64.gt_s (local.get $n) (i64.const 0))
      (then (drop (call $out (i32.const 1024) (i32.wrap_i64 (local.get $n))))))
    (i32.const 0)))
