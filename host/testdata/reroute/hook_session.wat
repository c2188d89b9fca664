;; hook_session is hook's route POST /hook made SESSION_REQUIRED (flag 2).
;; It answers "user=<user_id>", or, should the host ever run it without a
;; session, "NO USER authz=<Authorization header>", which a session route
;; never sees. Build: wat2wasm hook_session.wat -o hook_session.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/hook")
  (data (i32.const 32) "POST")
  (data (i32.const 48) "user_id")
  (data (i32.const 64) "user=")
  (data (i32.const 80) "NO USER authz=")
  (data (i32.const 112) "header.Authorization")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 4) (i32.const 1) (i32.const 2)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (local $n i64)
    (local.set $n (call $ctx (i32.const 48) (i32.const 7) (i32.const 1024) (i32.const 1024)))
    (if (i64.ge_s (local.get $n) (i64.const 0))
      (then
        (drop (call $out (i32.const 64) (i32.const 5)))
        (drop (call $out (i32.const 1024) (i32.wrap_i64 (local.get $n)))))
      (else
        (drop (call $out (i32.const 80) (i32.const 14)))
        (local.set $n (call $ctx (i32.const 112) (i32.const 20) (i32.const 2048) (i32.const 1024)))
        (if (i64.gt_s (local.get $n) (i64.const 0))
          (then (drop (call $out (i32.const 2048) (i32.wrap_i64 (local.get $n))))))))
    (i32.const 0)))
