;; logflood logs as much as it is asked to, for the tests of the plugin log
;; budget. The payload is four little-endian u32s, a b c d.
;; RPC log: calls log c times at level a with a message of b bytes ('A');
;; answers how many of those calls returned OK, as a u32.
;; RPC spill: fills a bytes of memory with 'A', a newline every b bytes
;; (none when b is 0), and makes one WASI fd_write to fd d with c iovecs
;; (at most 7936), each naming all a bytes; answers fd_write's nwritten and
;; errno, as two u32s.
;; Build: wat2wasm logflood.wat -o logflood.wasm.
(module
  (import "warden_v1" "rpc_register" (func $reg (param i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "input_read" (func $in (param i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "logspill")
  (func (export "warden_abi_v1"))
  (func (export "warden_init") (result i32)
    (drop (call $reg (i32.const 0) (i32.const 3) (i32.const 1) (i32.const 0)))
    (call $reg (i32.const 3) (i32.const 5) (i32.const 2) (i32.const 0)))
  ;; The payload is read to 16..32, the answer written at 32..40, the
  ;; iovecs at 1024, the message or the spilled bytes from 65536.
  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (drop (call $in (i32.const 0) (i32.const 16) (i32.const 16)))
    (call $grow (i32.load (i32.const 20)) (i32.load (i32.const 16)))
    (if (i32.eq (local.get $id) (i32.const 1))
      (then (call $logMany))
      (else (call $spill)))
    (drop (call $out (i32.const 32) (i32.const 8)))
    (i32.const 0))
  ;; $grow makes memory hold 65536 + max(x, y) bytes.
  (func $grow (param $x i32) (param $y i32)
    (local $pages i32)
    (local.set $pages (i32.add (i32.const 2)
      (i32.shr_u (select (local.get $x) (local.get $y) (i32.gt_u (local.get $x) (local.get $y))) (i32.const 16))))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size)))))))
  (func $logMany
    (local $i i32) (local $ok i32)
    (memory.fill (i32.const 65536) (i32.const 65) (i32.load (i32.const 20)))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 24))))
        (if (i32.eqz (call $log (i32.load (i32.const 16)) (i32.const 65536) (i32.load (i32.const 20))))
          (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 32) (local.get $ok))
    (i32.store (i32.const 36) (i32.const 0)))
  (func $spill
    (local $i i32) (local $size i32) (local $every i32)
    (local.set $size (i32.load (i32.const 16)))
    (local.set $every (i32.load (i32.const 20)))
    (memory.fill (i32.const 65536) (i32.const 65) (local.get $size))
    (if (i32.ne (local.get $every) (i32.const 0))
      (then
        (local.set $i (i32.sub (local.get $every) (i32.const 1)))
        (block $done
          (loop $more
            (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
            (i32.store8 (i32.add (i32.const 65536) (local.get $i)) (i32.const 10))
            (local.set $i (i32.add (local.get $i) (local.get $every)))
            (br $more)))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 24))))
        (i32.store (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))) (i32.const 65536))
        (i32.store (i32.add (i32.const 1028) (i32.shl (local.get $i) (i32.const 3))) (local.get $size))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (i32.store (i32.const 36)
      (call $fd_write (i32.load (i32.const 28)) (i32.const 1024) (i32.load (i32.const 24)) (i32.const 32)))))
