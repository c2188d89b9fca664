;; web is a hand-written test plugin with custom HTTP routes: the seed's
;; GET /test, a route parameter, a session-only route, and a handler that
;; sets a status and a header. Build: wat2wasm web.wat -o web.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "output_set_status" (func $status (param i32) (result i32)))
  (import "warden_v1" "output_add_header" (func $header (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 2)

  (data (i32.const 100) "/test")
  (data (i32.const 110) "GET")
  (data (i32.const 120) "You hit the new endpoint!")
  (data (i32.const 160) "/items/:id")
  (data (i32.const 180) "route.id")
  (data (i32.const 200) "/me")
  (data (i32.const 210) "user_id")
  (data (i32.const 220) "/created")
  (data (i32.const 230) "POST")
  (data (i32.const 240) "X-Made-By")
  (data (i32.const 250) "web")
  (data (i32.const 260) "header.Authorization")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $route (i32.const 100) (i32.const 5) (i32.const 110) (i32.const 3) (i32.const 1) (i32.const 0)))
    (drop (call $route (i32.const 160) (i32.const 10) (i32.const 0) (i32.const 0) (i32.const 2) (i32.const 0)))
    (drop (call $route (i32.const 200) (i32.const 3) (i32.const 110) (i32.const 3) (i32.const 3) (i32.const 2)))
    (drop (call $route (i32.const 220) (i32.const 8) (i32.const 230) (i32.const 4) (i32.const 4) (i32.const 0)))
    (i32.const 0))

  ;; $ctxout writes the context value named by (key, len) to the output, or
  ;; "-" when it is absent.
  (func $ctxout (param $key i32) (param $len i32)
    (local $n i64)
    (local.set $n (call $ctx (local.get $key) (local.get $len) (i32.const 4096) (i32.const 4096)))
    (if (i64.lt_s (local.get $n) (i64.const 0))
      (then (i32.store8 (i32.const 4096) (i32.const 45)) (local.set $n (i64.const 1))))
    (drop (call $out (i32.const 4096) (i32.wrap_i64 (local.get $n)))))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $id) (i32.const 1))
      (then (drop (call $out (i32.const 120) (i32.const 25))) (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 2))
      (then (call $ctxout (i32.const 180) (i32.const 8)) (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 3))
      (then (call $ctxout (i32.const 210) (i32.const 7))
            (call $ctxout (i32.const 260) (i32.const 20)) (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 4))
      (then
        (drop (call $status (i32.const 201)))
        (drop (call $header (i32.const 240) (i32.const 9) (i32.const 250) (i32.const 3)))
        (drop (call $in (i32.const 0) (i32.const 8192) (local.get $len)))
        (drop (call $out (i32.const 8192) (local.get $len)))
        (call $ctxout (i32.const 260) (i32.const 20))
        (return (i32.const 0))))
    (i32.const 1))
)
