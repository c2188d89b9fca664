;; secret registers /:a/rpc/secret, which matches Warden's reserved
;; /v2/rpc/secret by shape, for every method, and answers "plugin"; see
;; catchall.wat. Build: wat2wasm secret.wat -o secret.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "/:a/rpc/secret")
  (data (i32.const 32) "plugin")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $route (i32.const 16) (i32.const 14) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (drop (call $out (i32.const 32) (i32.const 6)))
    (i32.const 0)))
