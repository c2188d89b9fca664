;; fuzzer is a hand-written test plugin for FuzzHost_hostCalls: its rpc
;; "fuzz" reads its input as records of 25 bytes (a function number, then six
;; little-endian i32 arguments) and calls that host function with those
;; arguments, so that the fuzzer drives random sequences of host calls with
;; arbitrary pointers and lengths. It imports every ABI function (a test
;; checks it against abi.Imports()), in abi.Imports() order;
;; build: wat2wasm fuzzer.wat -o fuzzer.wasm.
(module
  (import "warden_v1" "rpc_register" (func $rpc_register (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $output_write (param i32 i32) (result i32)))
  (import "warden_v1" "error_set" (func $error_set (param i32 i32 i32) (result i32)))
  (import "warden_v1" "ctx_get" (func $ctx_get (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "warden_v1" "log_level" (func $log_level (result i32)))
  (import "warden_v1" "db_engine" (func $db_engine (result i32)))
  (import "warden_v1" "db_exec" (func $db_exec (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_query" (func $db_query (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_begin" (func $db_begin (param i32) (result i32)))
  (import "warden_v1" "db_commit" (func $db_commit (result i32)))
  (import "warden_v1" "db_rollback" (func $db_rollback (result i32)))
  (import "warden_v1" "result_read" (func $result_read (param i32 i32) (result i64)))
  (import "warden_v1" "last_error" (func $last_error (param i32 i32) (result i64)))
  (import "warden_v1" "panic" (func $panic (param i32 i32)))
  (import "warden_v1" "time_now" (func $time_now (result i64)))
  (import "warden_v1" "random_fill" (func $random_fill (param i32 i32) (result i32)))
  (import "warden_v1" "http_register" (func $http_register (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_set_status" (func $output_set_status (param i32) (result i32)))
  (import "warden_v1" "output_add_header" (func $output_add_header (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "http_request" (func $http_request (param i32 i32) (result i64)))
  (memory (export "memory") 4)
  (data (i32.const 0) "fuzz")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (call $rpc_register (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 0)))

  ;; $arg returns argument $k of the record at $rec.
  (func $arg (param $rec i32) (param $k i32) (result i32)
    (i32.load (i32.add (local.get $rec) (i32.add (i32.const 1) (i32.mul (local.get $k) (i32.const 4))))))

  (func $dispatch (param $r i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32) (local $f i32)
    (local.set $a (call $arg (local.get $r) (i32.const 0)))
    (local.set $b (call $arg (local.get $r) (i32.const 1)))
    (local.set $c (call $arg (local.get $r) (i32.const 2)))
    (local.set $d (call $arg (local.get $r) (i32.const 3)))
    (local.set $e (call $arg (local.get $r) (i32.const 4)))
    (local.set $f (call $arg (local.get $r) (i32.const 5)))
    (block $done
    (block $f21
    (block $f20
    (block $f19
    (block $f18
    (block $f17
    (block $f16
    (block $f15
    (block $f14
    (block $f13
    (block $f12
    (block $f11
    (block $f10
    (block $f9
    (block $f8
    (block $f7
    (block $f6
    (block $f5
    (block $f4
    (block $f3
    (block $f2
    (block $f1
    (block $f0
      (br_table $f0 $f1 $f2 $f3 $f4 $f5 $f6 $f7 $f8 $f9 $f10 $f11 $f12 $f13 $f14 $f15 $f16 $f17 $f18 $f19 $f20 $f21 $done (i32.rem_u (i32.load8_u (local.get $r)) (i32.const 22))))
      (drop (call $rpc_register (local.get $a) (local.get $b) (local.get $c) (local.get $d))) (br $done))
      (drop (call $input_read (local.get $a) (local.get $b) (local.get $c))) (br $done))
      (drop (call $output_write (local.get $a) (local.get $b))) (br $done))
      (drop (call $error_set (local.get $a) (local.get $b) (local.get $c))) (br $done))
      (drop (call $ctx_get (local.get $a) (local.get $b) (local.get $c) (local.get $d))) (br $done))
      (drop (call $log (local.get $a) (local.get $b) (local.get $c))) (br $done))
      (drop (call $log_level)) (br $done))
      (drop (call $db_engine)) (br $done))
      (drop (call $db_exec (local.get $a) (local.get $b) (local.get $c) (local.get $d))) (br $done))
      (drop (call $db_query (local.get $a) (local.get $b) (local.get $c) (local.get $d))) (br $done))
      (drop (call $db_begin (local.get $a))) (br $done))
      (drop (call $db_commit)) (br $done))
      (drop (call $db_rollback)) (br $done))
      (drop (call $result_read (local.get $a) (local.get $b))) (br $done))
      (drop (call $last_error (local.get $a) (local.get $b))) (br $done))
      (call $panic (local.get $a) (local.get $b)) (br $done))
      (drop (call $time_now)) (br $done))
      (drop (call $random_fill (local.get $a) (local.get $b))) (br $done))
      (drop (call $http_register (local.get $a) (local.get $b) (local.get $c) (local.get $d) (local.get $e) (local.get $f))) (br $done))
      (drop (call $output_set_status (local.get $a))) (br $done))
      (drop (call $output_add_header (local.get $a) (local.get $b) (local.get $c) (local.get $d))) (br $done))
      (drop (call $http_request (local.get $a) (local.get $b))) (br $done))
    )

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (local $p i32)
    (if (i32.gt_u (local.get $len) (i32.const 60000)) (then (local.set $len (i32.const 60000))))
    (drop (call $input_read (i32.const 0) (i32.const 65536) (local.get $len)))
    (block $end
      (loop $next
        (br_if $end (i32.gt_u (i32.add (local.get $p) (i32.const 25)) (local.get $len)))
        (call $dispatch (i32.add (i32.const 65536) (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 25)))
        (br $next)))
    (i32.const 0))
)
