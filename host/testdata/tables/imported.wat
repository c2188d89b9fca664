;; imported imports a table with no maximum. The host must refuse it,
;; naming the import. Build: wat2wasm imported.wat -o imported.wasm.
(module
  (import "env" "tbl" (table 1 funcref))
  (memory (export "memory") 1)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32) (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
