;; unknown_import imports a function that ABI v1 does not have.
(module
  (import "warden_v1" "db_foo" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
