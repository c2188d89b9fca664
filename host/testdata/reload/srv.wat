;; srv registers "srv" as server-only and "srv_other" as an open RPC; both
;; answer "srv". Reload tests drop srv_open in beside it, which registers
;; "SRV" without the flag. Build: wat2wasm srv.wat -o srv.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "srv")
  (data (i32.const 8) "srv_other")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 0) (i32.const 3) (i32.const 1) (i32.const 1)))
    (call $reg (i32.const 8) (i32.const 9) (i32.const 2) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (drop (call $out (i32.const 0) (i32.const 3)))
    (i32.const 0)))
