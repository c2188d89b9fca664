;; ver (version 1) answers rpc "ver" and GET /ver with "v1". reload tests
;; swap it with ver_v2. Build: wat2wasm ver_v1.wat -o ver_v1.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ver")
  (data (i32.const 8) "/ver")
  (data (i32.const 16) "GET")
  (data (i32.const 32) "v1")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 0) (i32.const 3) (i32.const 1) (i32.const 0)))
    (call $route (i32.const 8) (i32.const 4) (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (drop (call $out (i32.const 32) (i32.const 2)))
    (i32.const 0)))
