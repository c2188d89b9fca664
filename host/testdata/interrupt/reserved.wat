;; reserved exports a global under the name the host reserves for its
;; interrupt flag, as a plugin would that tried to hand the host a flag of
;; its own making: the load is refused. Build: wat2wasm reserved.wat -o reserved.wasm.
(module
  (memory (export "memory") 1)
  (global (export "__warden_interrupt") (mut i32) (i32.const 0))
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
