;; headerattack is a hand-written hostile test plugin: its route GET /h
;; calls output_add_header with what an attacker would try (the headers
;; the host manages, in any case; a CR LF or a NUL in a value; a name that
;; is not a token or is empty; ranges outside its memory; a length past
;; the limit, cookies that reach the console: its name, or a warden_ one,
;; or a path under /_warden/) and with three good headers, one known name
;; in lower case and one unknown, passed from a scratch copy at 600 that
;; it then overwrites, and a cookie of its own; then headers a reverse
;; proxy acts on (nginx's X-Accel-Redirect, Apache's X-Sendfile,
;; lighttpd's X-Lighttpd-Send-File, and others of those families: Envoy's,
;; Proxy-*) and hop-by-hop ones (Upgrade, Trailer, Keep-Alive).
;; It answers each call's status as a little-endian i64, in call order.
;; Build: wat2wasm headerattack.wat -o headerattack.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "output_add_header" (func $header (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  (data (i32.const 100) "/h")
  (data (i32.const 110) "GET")
  (data (i32.const 200) "content-length")
  (data (i32.const 220) "10")
  (data (i32.const 230) "Content-Length")
  (data (i32.const 250) "WARDEN-PLUGIN")
  (data (i32.const 270) "evil@1")
  (data (i32.const 280) "transfer-encoding")
  (data (i32.const 300) "chunked")
  (data (i32.const 310) "Connection")
  (data (i32.const 330) "close")
  (data (i32.const 340) "X-Evil")
  (data (i32.const 350) "a\0d\0aSet-Cookie: x=1")
  (data (i32.const 380) "Bad Name")
  (data (i32.const 390) "v")
  (data (i32.const 400) "content-type")
  (data (i32.const 420) "text/plain; charset=utf-8")
  (data (i32.const 460) "X-Keep")
  (data (i32.const 470) "kept")
  (data (i32.const 480) "Set-Cookie")
  (data (i32.const 500) "a=1\0ab=2")
  (data (i32.const 510) "Etag")
  (data (i32.const 520) "x\00y")
  (data (i32.const 700) "warden_console=x; Path=/_warden/console/api/")
  (data (i32.const 760) "a=1; Path=/_warden/console")
  (data (i32.const 800) "WARDEN_x=1")
  (data (i32.const 820) "game=1; path=/_WARDEN/")
  (data (i32.const 850) "game=1; Path=/game")
  (data (i32.const 880) "x-accel-redirect")
  (data (i32.const 900) "/internal/secrets")
  (data (i32.const 920) "X-Sendfile")
  (data (i32.const 940) "/etc/shadow")
  (data (i32.const 960) "upgrade")
  (data (i32.const 970) "trailer")
  (data (i32.const 980) "keep-alive")
  (data (i32.const 1000) "X-Lighttpd-Send-File")
  (data (i32.const 1030) "x-sendfile-temporary")
  (data (i32.const 1060) "X-Envoy-Immediate-Health-Check-Fail")
  (data (i32.const 1100) "proxy-status")
  (data (i32.const 1120) "X-Accel-Limit-Rate")
  (data (i32.const 1140) "game=2; Path=/game; Domain=example.com")

  (global $n (mut i32) (i32.const 0))

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $route (i32.const 100) (i32.const 2) (i32.const 110) (i32.const 3) (i32.const 1) (i32.const 0)))
    (i32.const 0))

  ;; $rec keeps one call's status at 4096 + 8n.
  (func $rec (param $s i32)
    (i64.store (i32.add (i32.const 4096) (i32.shl (global.get $n) (i32.const 3))) (i64.extend_i32_s (local.get $s)))
    (global.set $n (i32.add (global.get $n) (i32.const 1))))

  (func (export "warden_handle") (param $id i32) (param $len i32) (result i32)
    (global.set $n (i32.const 0))
    (memory.copy (i32.const 600) (i32.const 400) (i32.const 80))
    (call $rec (call $header (i32.const 200) (i32.const 14) (i32.const 220) (i32.const 2)))     ;; 1 content-length
    (call $rec (call $header (i32.const 230) (i32.const 14) (i32.const 220) (i32.const 2)))     ;; 2 Content-Length
    (call $rec (call $header (i32.const 250) (i32.const 13) (i32.const 270) (i32.const 6)))     ;; 3 WARDEN-PLUGIN
    (call $rec (call $header (i32.const 280) (i32.const 17) (i32.const 300) (i32.const 7)))     ;; 4 transfer-encoding
    (call $rec (call $header (i32.const 310) (i32.const 10) (i32.const 330) (i32.const 5)))     ;; 5 Connection
    (call $rec (call $header (i32.const 340) (i32.const 6) (i32.const 350) (i32.const 18)))     ;; 6 CR LF in the value
    (call $rec (call $header (i32.const 380) (i32.const 8) (i32.const 390) (i32.const 1)))      ;; 7 a name with a space
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 500) (i32.const 7)))     ;; 8 LF in a known name's value
    (call $rec (call $header (i32.const 510) (i32.const 4) (i32.const 520) (i32.const 3)))      ;; 9 NUL in the value
    (call $rec (call $header (i32.const 65530) (i32.const 12) (i32.const 390) (i32.const 1)))   ;; 10 name past the end
    (call $rec (call $header (i32.const 400) (i32.const 12) (i32.const -1) (i32.const 5)))      ;; 11 value at -1
    (call $rec (call $header (i32.const 400) (i32.const -1) (i32.const 420) (i32.const 25)))    ;; 12 name of 4 GiB
    (call $rec (call $header (i32.const 400) (i32.const 0) (i32.const 390) (i32.const 1)))      ;; 13 empty name
    (call $rec (call $header (i32.const 600) (i32.const 12) (i32.const 620) (i32.const 25)))    ;; 14 good, known name
    (call $rec (call $header (i32.const 660) (i32.const 6) (i32.const 670) (i32.const 4)))      ;; 15 good, unknown name
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 700) (i32.const 44)))    ;; 16 the console's cookie
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 760) (i32.const 26)))    ;; 17 a cookie for /_warden/
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 800) (i32.const 10)))    ;; 18 a warden_ name, in upper case
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 820) (i32.const 22)))    ;; 19 /_WARDEN/, in a lower-case attribute
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 850) (i32.const 18)))    ;; 20 good: the plugin's own cookie
    (call $rec (call $header (i32.const 880) (i32.const 16) (i32.const 900) (i32.const 17)))    ;; 21 X-Accel-Redirect
    (call $rec (call $header (i32.const 920) (i32.const 10) (i32.const 940) (i32.const 11)))    ;; 22 X-Sendfile
    (call $rec (call $header (i32.const 1000) (i32.const 20) (i32.const 940) (i32.const 11)))   ;; 23 X-Lighttpd-Send-File
    (call $rec (call $header (i32.const 960) (i32.const 7) (i32.const 390) (i32.const 1)))      ;; 24 Upgrade
    (call $rec (call $header (i32.const 970) (i32.const 7) (i32.const 390) (i32.const 1)))      ;; 25 Trailer
    (call $rec (call $header (i32.const 980) (i32.const 10) (i32.const 390) (i32.const 1)))     ;; 26 Keep-Alive
    (call $rec (call $header (i32.const 1030) (i32.const 20) (i32.const 940) (i32.const 11)))   ;; 27 X-Sendfile-Temporary
    (call $rec (call $header (i32.const 1060) (i32.const 35) (i32.const 390) (i32.const 1)))    ;; 28 X-Envoy-Immediate-Health-Check-Fail
    (call $rec (call $header (i32.const 1100) (i32.const 12) (i32.const 390) (i32.const 1)))    ;; 29 Proxy-Status
    (call $rec (call $header (i32.const 1120) (i32.const 18) (i32.const 390) (i32.const 1)))    ;; 30 X-Accel-Limit-Rate
    (call $rec (call $header (i32.const 480) (i32.const 10) (i32.const 1140) (i32.const 38)))   ;; 31 a cookie for the whole domain
    ;; Overwrite what the good headers were read from: the host must have
    ;; kept its own copies, or constants.
    (memory.fill (i32.const 600) (i32.const 90) (i32.const 80))
    (drop (call $out (i32.const 4096) (i32.shl (global.get $n) (i32.const 3))))
    (i32.const 0))
)
