;; grow declares a table of at most 16 entries; rpc "grow" tries to grow it
;; by 2^26 entries and answers "refused" when table.grow fails (-1),
;; "grew" otherwise. Build: wat2wasm grow.wat -o grow.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 1 16 funcref)
  (data (i32.const 0) "grow")
  (data (i32.const 8) "refused")
  (data (i32.const 16) "grew")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $reg (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 0)))
  (func (export "warden_handle") (param i32 i32) (result i32)
    (if (i32.eq (table.grow $t (ref.null func) (i32.const 0x4000000)) (i32.const -1))
      (then (drop (call $out (i32.const 8) (i32.const 7))))
      (else (drop (call $out (i32.const 16) (i32.const 4)))))
    (i32.const 0)))
