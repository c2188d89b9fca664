;; sqlprobe is a hand-written test plugin that runs the SQL it is given, so
;; that tests can check what one plugin's database connection reaches: other
;; plugins' tables, Warden's own, the schema. Its RPCs take the SQL as their
;; input and run it with no arguments:
;;   exec, query  output an i64 (little-endian): rows affected, the result
;;                length, or -status; then the encoded rows (query) or the
;;                last_error message (failure).
;;   hold_write   begins a write transaction, runs the SQL with db_exec and
;;                spins until the call's deadline, holding the transaction.
;;   hold_read    the same with a read transaction and db_query.
;; Build: wat2wasm sqlprobe.wat -o sqlprobe.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "db_exec" (func $exec (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_query" (func $query (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_begin" (func $begin (param i32) (result i32)))
  (import "warden_v1" "result_read" (func $rr (param i32 i32) (result i64)))
  (import "warden_v1" "last_error" (func $le (param i32 i32) (result i64)))
  (memory (export "memory") 8)

  (data (i32.const 100) "exec")
  (data (i32.const 110) "query")
  (data (i32.const 120) "hold_write")
  (data (i32.const 140) "hold_read")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 4) (i32.const 1) (i32.const 0)))
    (drop (call $reg (i32.const 110) (i32.const 5) (i32.const 2) (i32.const 0)))
    (drop (call $reg (i32.const 120) (i32.const 10) (i32.const 3) (i32.const 0)))
    (drop (call $reg (i32.const 140) (i32.const 9) (i32.const 4) (i32.const 0)))
    (i32.const 0))

  ;; $report outputs r as an i64 at 65536, followed by the last error when r
  ;; is negative, or by the result slot when $rows is set.
  (func $report (param $r i64) (param $rows i32) (result i32)
    (local $n i64)
    (i64.store (i32.const 65536) (local.get $r))
    (if (i64.lt_s (local.get $r) (i64.const 0))
      (then
        (local.set $n (call $le (i32.const 65544) (i32.const 65536)))
        (if (i64.gt_s (local.get $n) (i64.const 65536)) (then (local.set $n (i64.const 0)))))
      (else
        (if (local.get $rows)
          (then
            (local.set $n (call $rr (i32.const 65544) (i32.const 393216)))
            (if (i64.gt_s (local.get $n) (i64.const 393216)) (then (local.set $n (i64.const 0))))))))
    (drop (call $out (i32.const 65536) (i32.add (i32.const 8) (i32.wrap_i64 (local.get $n)))))
    (i32.const 0))

  (func $spin (loop $forever (br $forever)))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local.set $len (call $in (i32.const 0) (i32.const 1024) (i32.const 32768)))
    (if (i32.eq (local.get $id) (i32.const 1))
      (then (return (call $report
        (call $exec (i32.const 1024) (local.get $len) (i32.const 0) (i32.const 0)) (i32.const 0)))))
    (if (i32.eq (local.get $id) (i32.const 2))
      (then (return (call $report
        (call $query (i32.const 1024) (local.get $len) (i32.const 0) (i32.const 0)) (i32.const 1)))))
    (if (i32.eq (local.get $id) (i32.const 3))
      (then
        (if (i32.ne (call $begin (i32.const 1)) (i32.const 0)) (then (return (i32.const 1))))
        (drop (call $exec (i32.const 1024) (local.get $len) (i32.const 0) (i32.const 0)))
        (call $spin)))
    (if (i32.eq (local.get $id) (i32.const 4))
      (then
        (if (i32.ne (call $begin (i32.const 0)) (i32.const 0)) (then (return (i32.const 1))))
        (drop (call $query (i32.const 1024) (local.get $len) (i32.const 0) (i32.const 0)))
        (call $spin)))
    (i32.const 2))
)
