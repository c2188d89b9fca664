;; initspin is a hostile test plugin that fails in init, where the circuit
;; breaker did not look. The probe instance's init creates a table and
;; succeeds; every later instance's init finds the table and spins until
;; its deadline. RPC "spin" returns at once; RPC "burn" spins until the
;; call's deadline, which spends the probe, so that every later call needs
;; a new instance and spends a whole call timeout of CPU in its init.
;; Build: wat2wasm initspin.wat -o initspin.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "db_exec" (func $exec (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1 1)
  (data (i32.const 100) "spin")
  (data (i32.const 110) "burn")
  (data (i32.const 200) "CREATE TABLE initspin_once (x BIGINT)")
  (func (export "warden_abi_v1"))
  (func $forever (loop $l (br $l)))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
    (drop (call $reg (i32.const 110) (i32.const 4) (i32.const 2) (i32.const 0)))
    (if (i64.lt_s (call $exec (i32.const 200) (i32.const 37) (i32.const 0) (i32.const 0)) (i64.const 0))
      (then (call $forever)))
    (i32.const 0))
  (func (export "warden_handle") (param $h i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $h) (i32.const 2)) (then (call $forever)))
    (i32.const 0)))
