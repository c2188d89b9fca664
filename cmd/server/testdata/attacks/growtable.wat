;; growtable is a hand-written hostile plugin for cmd/server's sandbox tests:
;; its table has no maximum, and its RPC growtable grows it by 64 Mi
;; entries, each set to a function, and answers table.grow's result as a
;; little-endian i32. Build: make fixtures.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (elem declare func $f)
  (data (i32.const 16) "growtable")

  (func $f)
  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 16) (i32.const 9) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (table.grow $t (ref.func $f) (i32.const 67108864)))
    (drop (call $out (i32.const 0) (i32.const 4)))
    (i32.const 0))
)
