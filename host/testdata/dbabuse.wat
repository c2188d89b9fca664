;; dbabuse is a hand-written test plugin that abuses the database functions
;; the way a hostile plugin would, and outputs what each host call returned
;; (an i64, little-endian), so that the host's bounds can be tested. Build
;; with `wat2wasm dbabuse.wat -o dbabuse.wasm` (make plugins does it).
;;
;; null_args: db_exec("SELECT 1") with 16 MiB of arguments: a count of
;;   16 MiB - 4 values, each a 1-byte NULL (zeroed memory is NULL tags).
;; endless:   db_query of a recursive CTE that never ends.
;; zeroblob:  db_query("SELECT zeroblob(900000000)").
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "db_exec" (func $exec (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_query" (func $query (param i32 i32 i32 i32) (result i64)))
  ;; 16 MiB of arguments at 1 MiB, after the strings and the result slot.
  (memory (export "memory") 272 272)

  (data (i32.const 100) "null_args")
  (data (i32.const 120) "endless")
  (data (i32.const 140) "zeroblob")
  (data (i32.const 200) "SELECT 1")
  (data (i32.const 300) "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
  (data (i32.const 500) "SELECT zeroblob(900000000)")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 9) (i32.const 1) (i32.const 0)))
    (drop (call $reg (i32.const 120) (i32.const 7) (i32.const 2) (i32.const 0)))
    (drop (call $reg (i32.const 140) (i32.const 8) (i32.const 3) (i32.const 0)))
    (i32.const 0))

  ;; $ret outputs v as a little-endian i64 from offset 1024.
  (func $ret (param $v i64) (result i32)
    (i64.store (i32.const 1024) (local.get $v))
    (drop (call $out (i32.const 1024) (i32.const 8)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $id) (i32.const 1))
      (then
        (i32.store (i32.const 1048576) (i32.const 16777212))
        (return (call $ret (call $exec (i32.const 200) (i32.const 8) (i32.const 1048576) (i32.const 16777216))))))
    (if (i32.eq (local.get $id) (i32.const 2))
      (then
        (return (call $ret (call $query (i32.const 300) (i32.const 86) (i32.const 0) (i32.const 0))))))
    (if (i32.eq (local.get $id) (i32.const 3))
      (then
        (return (call $ret (call $query (i32.const 500) (i32.const 26) (i32.const 0) (i32.const 0))))))
    (i32.const 1)))
