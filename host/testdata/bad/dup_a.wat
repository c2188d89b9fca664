;; dup_a registers "same", as dup_b does.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "SAME")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (call $reg (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
