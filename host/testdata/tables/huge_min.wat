;; huge_min declares a table of 2^27 entries (the most the runtime allows,
;; 1 GiB of host memory per instance) and fills it in warden_init. The
;; host must refuse it. Build: wat2wasm huge_min.wat -o huge_min.wasm.
(module
  (memory (export "memory") 1)
  (table $t 134217728 134217728 funcref)
  (func $f)
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (table.fill $t (i32.const 0) (ref.func $f) (i32.const 134217728))
    (i32.const 0))
  (func (export "warden_handle") (param i32 i32) (result i32) (i32.const 0))
  (elem declare func $f))
