;; spin has a start section, which must still run before warden_init once
;; the host has moved it, and an rpc "spin" that loops forever in a loop
;; that carries a value (a block type with parameters, multi-value), inside
;; another loop. Build: wat2wasm spin.wat -o spin.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "spin")
  (global $started (mut i32) (i32.const 0))
  (type $carry (func (param i32) (result i32)))
  (func $start (global.set $started (i32.const 1)))
  (start $start)
  (func (export "warden_abi_v1"))
  ;; init fails (returns 1) unless the start function ran first.
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
    (i32.sub (i32.const 1) (global.get $started)))
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (loop $outer
      (i32.const 0)
      (loop $inner (type $carry) (param i32) (result i32)
        (i32.add (i32.const 1))
        (br $inner))
      (drop)
      (br $outer))
    (i32.const 0)))
