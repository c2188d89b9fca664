;; deepstack recurses as deep as its caller asks: RPC "deep" reads a
;; little-endian u32 n from its payload, calls $rec n deep, and returns
;; normally. wazero grows its call stack as deep as the recursion goes and
;; keeps it with the instance, so the host bounds how deep a call goes.
;; Build: wat2wasm deepstack.wat -o deepstack.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 100) "deep")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
    (i32.const 0))
  (func $rec (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (return (i32.const 0)))
      (else (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "warden_handle") (param $h i32) (param $len i32) (result i32)
    (drop (call $in (i32.const 0) (i32.const 0) (i32.const 4)))
    (drop (call $rec (i32.load (i32.const 0))))
    (i32.const 0)))
