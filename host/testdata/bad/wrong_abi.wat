;; wrong_abi is built for a future ABI v2.
(module
  (memory (export "memory") 1)
  (func (export "warden_abi_v2"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
