;; hook is an OPEN route POST /hook that answers "open authz=<Authorization
;; header>", which an open route sees. Reroute tests replace it with
;; hook_session, the same route made SESSION_REQUIRED, and the other way
;; round, while a request routed to one is still reading its body.
;; Build: wat2wasm hook.wat -o hook.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/hook")
  (data (i32.const 32) "POST")
  (data (i32.const 64) "open authz=")
  (data (i32.const 112) "header.Authorization")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 4) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (local $n i64)
    (drop (call $out (i32.const 64) (i32.const 11)))
    (local.set $n (call $ctx (i32.const 112) (i32.const 20) (i32.const 2048) (i32.const 1024)))
    (if (i64.gt_s (local.get $n) (i64.const 0))
      (then (drop (call $out (i32.const 2048) (i32.wrap_i64 (local.get $n))))))
    (i32.const 0)))
