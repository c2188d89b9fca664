;; attacker is a hand-written hostile plugin for cmd/server's sandbox tests
;; (sandbox_test.go): it gives the test a SQL shell with the rights of any
;; plugin, holds a write transaction until its deadline, and passes 16 MiB of
;; NULL arguments to db_exec. It has no table. Build: make fixtures.
;;
;; atk_query and atk_exec take sql_len:u32, the SQL, then an encoded value
;; list (ABI.md 4.1) as arguments, and answer 'K' followed by the encoded
;; result (query) or the i64 row count (exec), or 'E', the i64 status and
;; the last error's message.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "warden_v1" "db_exec" (func $exec (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_query" (func $query (param i32 i32 i32 i32) (result i64)))
  (import "warden_v1" "db_begin" (func $begin (param i32) (result i32)))
  (import "warden_v1" "result_read" (func $rr (param i32 i32) (result i64)))
  (import "warden_v1" "last_error" (func $le (param i32 i32) (result i64)))
  ;; 0..1023 constants, 1024.. the answer header and error message, 65536..
  ;; the input (at most the 256 KiB body limit), 393216.. results and args.
  (memory (export "memory") 8)

  (data (i32.const 100) "atk_query")
  (data (i32.const 120) "atk_exec")
  (data (i32.const 140) "atk_hold")
  (data (i32.const 160) "atk_nullargs")
  (data (i32.const 180) "SELECT 1")
  (data (i32.const 200) "attacker holds a write transaction")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 100) (i32.const 9) (i32.const 1) (i32.const 0)))
    (drop (call $reg (i32.const 120) (i32.const 8) (i32.const 2) (i32.const 0)))
    (drop (call $reg (i32.const 140) (i32.const 8) (i32.const 3) (i32.const 0)))
    (drop (call $reg (i32.const 160) (i32.const 12) (i32.const 4) (i32.const 0)))
    (i32.const 0))

  ;; $ensure grows memory so that [0, end) is in it; 0 when it cannot.
  (func $ensure (param $end i32) (result i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 1))

  ;; $fail answers 'E', the status as an i64 and the last error's message.
  (func $fail (param $st i64) (result i32)
    (local $m i64)
    (i32.store8 (i32.const 1024) (i32.const 69))
    (i64.store (i32.const 1025) (local.get $st))
    (local.set $m (call $le (i32.const 1033) (i32.const 4096)))
    (if (i64.gt_u (local.get $m) (i64.const 4096)) (then (local.set $m (i64.const 0))))
    (drop (call $out (i32.const 1024) (i32.add (i32.const 9) (i32.wrap_i64 (local.get $m)))))
    (i32.const 0))

  ;; $sql runs the input's statement with db_query ($isquery) or db_exec.
  (func $sql (param $isquery i32) (param $len i32) (result i32)
    (local $sl i32) (local $args i32) (local $alen i32) (local $n i64)
    (if (i32.gt_u (local.get $len) (i32.const 327680)) (then (return (call $fail (i64.const -2)))))
    (drop (call $in (i32.const 0) (i32.const 65536) (local.get $len)))
    (local.set $sl (i32.load (i32.const 65536)))
    (if (i32.gt_u (local.get $sl) (i32.sub (local.get $len) (i32.const 4)))
      (then (return (call $fail (i64.const -2)))))
    (local.set $args (i32.add (i32.const 65540) (local.get $sl)))
    (local.set $alen (i32.sub (i32.sub (local.get $len) (i32.const 4)) (local.get $sl)))
    (if (local.get $isquery)
      (then (local.set $n (call $query (i32.const 65540) (local.get $sl) (local.get $args) (local.get $alen))))
      (else (local.set $n (call $exec (i32.const 65540) (local.get $sl) (local.get $args) (local.get $alen)))))
    (if (i64.lt_s (local.get $n) (i64.const 0)) (then (return (call $fail (local.get $n)))))
    (if (i32.eqz (local.get $isquery))
      (then
        (i32.store8 (i32.const 1024) (i32.const 75))
        (i64.store (i32.const 1025) (local.get $n))
        (drop (call $out (i32.const 1024) (i32.const 9)))
        (return (i32.const 0))))
    (if (i64.gt_u (local.get $n) (i64.const 0x1000000)) (then (return (call $fail (i64.const -6)))))
    (if (i32.eqz (call $ensure (i32.add (i32.const 393216) (i32.wrap_i64 (local.get $n)))))
      (then (return (call $fail (i64.const -6)))))
    (local.set $n (call $rr (i32.const 393216) (i32.wrap_i64 (local.get $n))))
    (if (i64.lt_s (local.get $n) (i64.const 0)) (then (return (call $fail (local.get $n)))))
    (i32.store8 (i32.const 1024) (i32.const 75))
    (drop (call $out (i32.const 1024) (i32.const 1)))
    (drop (call $out (i32.const 393216) (i32.wrap_i64 (local.get $n))))
    (i32.const 0))

  ;; $hold begins a write transaction, runs the input's statement in it,
  ;; logs a warning that says so, and spins until the call's deadline.
  (func $hold (param $len i32) (result i32)
    (local $st i32) (local $n i64)
    (if (i32.gt_u (local.get $len) (i32.const 262144)) (then (return (call $fail (i64.const -2)))))
    (drop (call $in (i32.const 0) (i32.const 65536) (local.get $len)))
    (local.set $st (call $begin (i32.const 1)))
    (if (local.get $st) (then (return (call $fail (i64.extend_i32_s (local.get $st))))))
    (local.set $n (call $exec (i32.const 65536) (local.get $len) (i32.const 0) (i32.const 0)))
    (if (i64.lt_s (local.get $n) (i64.const 0)) (then (return (call $fail (local.get $n)))))
    (drop (call $log (i32.const 2) (i32.const 200) (i32.const 34)))
    (loop $forever (br $forever))
    (i32.const 0))

  ;; $nullargs runs db_exec("SELECT 1") with a value list of 16 MiB, the
  ;; most ABI 1.1 allows: its count and 16 Mi - 4 NULLs.
  (func $nullargs (result i32)
    (local $n i64)
    (if (i32.eqz (call $ensure (i32.const 17170432))) (then (return (call $fail (i64.const -6)))))
    (i32.store (i32.const 393216) (i32.const 16777212))
    (memory.fill (i32.const 393220) (i32.const 0) (i32.const 16777212))
    (local.set $n (call $exec (i32.const 180) (i32.const 8) (i32.const 393216) (i32.const 16777216)))
    (if (i64.lt_s (local.get $n) (i64.const 0)) (then (return (call $fail (local.get $n)))))
    (i32.store8 (i32.const 1024) (i32.const 75))
    (i64.store (i32.const 1025) (local.get $n))
    (drop (call $out (i32.const 1024) (i32.const 9)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $id) (i32.const 1)) (then (return (call $sql (i32.const 1) (local.get $len)))))
    (if (i32.eq (local.get $id) (i32.const 2)) (then (return (call $sql (i32.const 0) (local.get $len)))))
    (if (i32.eq (local.get $id) (i32.const 3)) (then (return (call $hold (local.get $len)))))
    (if (i32.eq (local.get $id) (i32.const 4)) (then (return (call $nullargs))))
    (i32.const 12))
)
