;; unbounded declares a table with no maximum and grows it by 2^26 entries
;; in warden_init: about 512 MB of host memory per instance if it loaded.
;; The host must refuse it. Build: wat2wasm unbounded.wat -o unbounded.wasm.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (table.grow $t (ref.null func) (i32.const 0x4000000)))
    (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0)))
