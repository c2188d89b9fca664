;; init_traps traps in its init.
(module
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) unreachable)
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
