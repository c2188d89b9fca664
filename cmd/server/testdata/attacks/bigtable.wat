;; bigtable is a hand-written hostile plugin for cmd/server's sandbox tests:
;; its table declares 2^27 entries and no maximum, and warden_init fills
;; every entry, so that each instance would hold a GiB of table. Build: make
;; fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 134217728 funcref)
  (elem declare func $f)
  (data (i32.const 16) "bigtable")

  (func $f)
  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (table.fill $t (i32.const 0) (ref.func $f) (i32.const 134217728))
    (drop (call $reg (i32.const 16) (i32.const 8) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $out (i32.const 16) (i32.const 8)))
    (i32.const 0))
)
