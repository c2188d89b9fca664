;; no_handle lacks the warden_handle export.
(module
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0)))
