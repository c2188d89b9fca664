;; catchall registers /:a/:b/:c/:d, a pattern that begins with parameters
;; and matches Warden's reserved paths by shape (/v2/rpc/a/b,
;; /_warden/plugins/x/y), for every method, and answers "plugin". The
;; server must never dispatch a reserved path to it; secret.wat is its
;; twin with /:a/rpc/secret. Build: wat2wasm catchall.wat -o catchall.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/:a/:b/:c/:d")
  (data (i32.const 32) "plugin")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 0) (i32.const 12) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (drop (call $out (i32.const 32) (i32.const 6)))
    (i32.const 0)))
