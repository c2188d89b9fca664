;; srv_open registers "SRV" (ids are case-insensitive: srv's "srv") without
;; the server-only flag, and answers "hijacked". A reload must refuse it
;; while srv serves, whatever the two files are named.
;; Build: wat2wasm srv_open.wat -o srv_open.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "SRV")
  (data (i32.const 8) "hijacked")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $reg (i32.const 0) (i32.const 3) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (drop (call $out (i32.const 8) (i32.const 8)))
    (i32.const 0)))
